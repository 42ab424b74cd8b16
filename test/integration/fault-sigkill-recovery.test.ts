// Fault: the gateway is killed with SIGKILL under load, then started again. The audit chain still
// verifies (the restarted process continues the tail; it does not fork it), and every request whose
// reply the client received completely has its event (X-Request-Id == http.request.id): with
// `audit.failClosed` the event is on disk before the last byte of the reply leaves.
import { describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { startServe } from '../helpers/process.js'
import { eventually } from '../helpers/eventually.js'
import { defaultScript, startFakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig, cli } from '../helpers/cli.js'
import { copyTestCerts } from '../helpers/tls.js'

interface Line { event: { action: string }, http?: { request?: { id?: string } }, gatehouse: { chain: { seq: number, replica?: string } } }

describe('SIGKILL under load, then start again', () => {
  it('the chain verifies across the crash and every completed reply has its event', async () => {
    const fake = await startFakeOllama()
    fake.script = { ...defaultScript(), tokens: Array.from({ length: 20 }, (_, i) => `t${i} `), beforeChunk: async () => { await delay(5) } }
    const { dir } = tempConfig()
    const certs = copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    mkdirSync(join(dir, 'config'))
    const file = join(dir, 'config', 'gatehouse.yaml')
    const log = join(dir, 'logs', 'audit.log')
    writeFileSync(file, stringify({
      listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url },
      audit: { failClosed: true, replicaId: 'gw', sinks: [{ type: 'file', path: '../logs/audit.log' }] }
    }))
    const key = (JSON.parse((await cli(['key', 'create', '--name', 'svc', '--role', 'user', '--json', '--config', file])).out) as { key: string }).key
    const headers = { authorization: `Bearer ${key}` }
    const completed: string[] = []
    let served = await startServe(file)
    const agent = new Agent({ connect: { ca: readFileSync(certs.caCert) }, connections: 64 })
    try {
      let stop = false
      const client = async (i: number) => {
        while (!stop) {
          try {
            const stream = i % 3 !== 0
            const res = await request(served.url + (stream ? '/api/chat' : '/api/tags'), {
              method: stream ? 'POST' : 'GET', dispatcher: agent, headers, ...(stream ? { body: JSON.stringify({ model: 'llama3.2', messages: [] }) } : {})
            })
            const text = await res.body.text()
            const whole = stream ? text.trimEnd().split('\n').at(-1)?.includes('"done":true') === true : res.statusCode === 200
            if (res.statusCode === 200 && whole) completed.push(String(res.headers['x-request-id']))
          } catch { /* the process died under this request: it never completed */ }
        }
      }
      const clients = Array.from({ length: 24 }, (_, i) => client(i))
      await eventually(() => { expect(completed.length).toBeGreaterThan(60) }, { timeoutMs: 15_000 })
      served.child.kill('SIGKILL')
      expect(await served.exit).toBe(null)
      stop = true
      await Promise.all(clients)

      served = await startServe(file)
      const after = await request(served.url + '/api/tags', { dispatcher: agent, headers })
      await after.body.dump()
      expect(after.statusCode).toBe(200)
      served.child.kill('SIGTERM')
      expect(await served.exit).toBe(0)

      const verify = await cli(['audit', 'verify', '--config', file, log])
      expect(verify.err + verify.out).not.toMatch(/modified|malformed|chain_broken|inserted|reordered/)
      expect(verify.code).toBe(0)
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line)
      const ids = new Set(lines.map((l) => l.http?.request?.id))
      expect(completed.filter((id) => !ids.has(id))).toEqual([])
      // one chain for the gateway's replica: seq runs 1..n without a restart at 1
      const seqs = lines.filter((l) => l.gatehouse.chain.replica === 'gw').map((l) => l.gatehouse.chain.seq)
      expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    } finally {
      served.child.kill('SIGKILL')
      await agent.close()
      await fake.close()
    }
  }, 60_000)
})
