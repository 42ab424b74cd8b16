// app.close() alone releases what the gateway opened: the upstream pool, the store and the audit
// log (sealed with a final checkpoint). Nothing has to be closed by hand beside it.
import { describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call } from '../helpers/gateway.js'

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
})
