// SIGTERM: stop accepting, let open streams finish, flush the audit log (with its final
// checkpoint), exit 0. A stream in flight when the signal arrives still ends with Ollama's `done`.
import { describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { startServe } from '../helpers/process.js'
import { eventually } from '../helpers/eventually.js'
import { defaultScript, startFakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig, cli } from '../helpers/cli.js'
import { copyTestCerts } from '../helpers/tls.js'

describe('graceful shutdown', () => {
  it('a stream open at SIGTERM completes, new connections are refused, the process exits 0', async () => {
    const fake = await startFakeOllama()
    const { dir } = tempConfig()
    const certs = copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    mkdirSync(join(dir, 'config'))
    const file = join(dir, 'config', 'gatehouse.yaml')
    writeFileSync(file, stringify({ listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] } }))
    const key = (JSON.parse((await cli(['key', 'create', '--name', 'svc', '--role', 'user', '--json', '--config', file])).out) as { key: string }).key
    const served = await startServe(file)
    const agent = new Agent({ connect: { ca: readFileSync(certs.caCert) } })
    try {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      fake.script = { ...defaultScript(), tokens: ['still ', 'here'], beforeChunk: (i) => (i === 1 ? held : Promise.resolve()) }
      const res = await request(served.url + '/api/chat', { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
      const reader = res.body[Symbol.asyncIterator]()
      const first = await reader.next()
      expect(String(first.value)).toContain('still ')

      served.child.kill('SIGTERM')
      // once draining, a new connection is refused or told 503
      await eventually(async () => {
        const fresh = new Agent({ connect: { ca: readFileSync(certs.caCert) } })
        try {
          expect(await request(served.url + '/healthz', { dispatcher: fresh }).then((r) => r.statusCode, () => 'refused')).toBeOneOf(['refused', 503])
        } finally { await fresh.destroy() }
      })

      release()
      let rest = ''
      for (let r = await reader.next(); !r.done; r = await reader.next()) rest += String(r.value)
      const lines = (String(first.value) + rest).trim().split('\n').map((l) => JSON.parse(l) as { done: boolean })
      expect(lines.at(-1)?.done).toBe(true)
      expect(await served.exit).toBe(0)
      const events = readFileSync(join(dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: { action: string }, gatehouse: { chain: { seq: number } } })
      expect(events.some((e) => e.event.action === 'model-request')).toBe(true)
      const checkpoints = readFileSync(join(dir, 'logs', 'audit.log.checkpoints'), 'utf8').trim().split('\n')
      expect(checkpoints.at(-1)).toContain(`"seq":${(events.at(-1) as { gatehouse: { chain: { seq: number } } }).gatehouse.chain.seq}`)
    } finally {
      served.child.kill('SIGKILL')
      await agent.close()
      await fake.close()
    }
  })

  it('150 streams open at SIGTERM all end with their done line, each has its event, the checkpoint covers the last one', async () => {
    const fake = await startFakeOllama()
    const { dir } = tempConfig()
    const certs = copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    mkdirSync(join(dir, 'config'))
    const file = join(dir, 'config', 'gatehouse.yaml')
    writeFileSync(file, stringify({
      listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url },
      rateLimit: { requestsPerMinute: 10_000, concurrentStreams: 1000 },
      audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] }
    }))
    const key = (JSON.parse((await cli(['key', 'create', '--name', 'svc', '--role', 'user', '--json', '--config', file])).out) as { key: string }).key
    const served = await startServe(file)
    const N = 150
    const agent = new Agent({ connect: { ca: readFileSync(certs.caCert) }, connections: N + 10 })
    try {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      fake.script = { ...defaultScript(), tokens: ['held ', 'then ', 'done'], beforeChunk: (i) => (i === 1 ? held : Promise.resolve()) }
      const streams = await Promise.all(Array.from({ length: N }, async () => {
        const res = await request(served.url + '/api/chat', { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
        const reader = res.body[Symbol.asyncIterator]()
        const first = await reader.next()
        return { id: String(res.headers['x-request-id']), status: res.statusCode, reader, text: String(first.value) }
      }))
      expect(streams.map((s) => s.status)).toEqual(Array(N).fill(200))

      served.child.kill('SIGTERM')
      await eventually(async () => {
        const fresh = new Agent({ connect: { ca: readFileSync(certs.caCert) } })
        try {
          expect(await request(served.url + '/healthz', { dispatcher: fresh }).then((r) => r.statusCode, () => 'refused')).toBeOneOf(['refused', 503])
        } finally { await fresh.destroy() }
      })

      release()
      const ends = await Promise.all(streams.map(async (s) => {
        let text = s.text
        for (let r = await s.reader.next(); !r.done; r = await s.reader.next()) text += String(r.value)
        return (JSON.parse(text.trim().split('\n').at(-1) as string) as { done: boolean }).done
      }))
      expect(ends).toEqual(Array(N).fill(true))
      expect(await served.exit).toBe(0)
      const events = readFileSync(join(dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
        .map((l) => JSON.parse(l) as { http?: { request?: { id?: string } }, gatehouse: { chain: { seq: number } } })
      const ids = new Set(events.map((e) => e.http?.request?.id))
      expect(streams.filter((s) => !ids.has(s.id))).toEqual([])
      const checkpoints = readFileSync(join(dir, 'logs', 'audit.log.checkpoints'), 'utf8').trim().split('\n')
      expect(checkpoints.at(-1)).toContain(`"seq":${(events.at(-1) as { gatehouse: { chain: { seq: number } } }).gatehouse.chain.seq}`)
      expect((await cli(['audit', 'verify', '--config', file, join(dir, 'logs', 'audit.log')])).code).toBe(0)
    } finally {
      served.child.kill('SIGKILL')
      await agent.close()
      await fake.close()
    }
  }, 40_000)
})
