// app.close() alone releases what the gateway opened: the upstream pool, the store and the audit
// log (sealed with a final checkpoint). Nothing has to be closed by hand beside it.
import { describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { startTestGateway, call } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { eventually } from '../helpers/eventually.js'

describe('app.close()', () => {
  it('releases the upstream pool, the store and the audit log', async () => {
    const gw = await startTestGateway()
    try {
      expect((await call(gw, 'GET', '/api/tags')).status).toBe(200)
      const { upstream, store, audit } = gw.gateway
      expect(upstream.pool.closed).toBe(false)
      expect(await store.ping()).toBe(true)
      expect(audit.writable()).toBe(true)

      await gw.gateway.app.close()

      expect(upstream.pool.closed).toBe(true)
      expect(await store.ping()).toBe(false)
      expect(audit.writable()).toBe(false)
      const checkpoints = join(gw.dir, 'logs', 'audit.log.checkpoints')
      expect(existsSync(checkpoints) && readFileSync(checkpoints, 'utf8').trim().length > 0).toBe(true)
    } finally {
      await gw.close() // closing again is harmless
    }
  })

  it('ends once the last open stream ends: its keep-alive connection is closed then, not keepAliveTimeout (5 s) later', async () => {
    const gw = await startTestGateway()
    try {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      gw.fake.script = { ...defaultScript(), beforeChunk: (i) => (i === 1 ? held : Promise.resolve()) }
      const res = await request(gw.url + '/api/chat', { method: 'POST', dispatcher: gw.dispatcher, headers: gw.auth, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
      expect(res.headers.connection).toBe('keep-alive')
      const reader = res.body[Symbol.asyncIterator]()
      await reader.next()

      let closed = false
      const closing = gw.gateway.app.close().then(() => { closed = true })
      release()
      for (let r = await reader.next(); !r.done; r = await reader.next());
      // the client keeps its connection: only the gateway closing it lets close() end this soon
      await eventually(() => { expect(closed).toBe(true) }, { timeoutMs: 2500 })
      await closing
    } finally {
      await gw.close()
    }
  })
})
