// Fault: the syslog server goes away and comes back. With a file sink beside it nothing is lost:
// requests go on, and every event the file has also reaches the syslog server once it is back.
// With syslog as the only sink and `audit.failClosed`, requests are refused with 503 during the
// outage, and the events queued meanwhile arrive once the server is back. The server is a plain
// TCP listener the test controls (octet-counted frames, one JSON event per message).
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import { freePort } from '../helpers/private-servers.js'

interface Received { seq: number, action: string, requestId: string | undefined }

/** A syslog receiver on a fixed port that can be stopped (every connection reset) and started again. */
function syslogReceiver (port: number) {
  const got: Received[] = []
  let server: Server | null = null
  const sockets = new Set<Socket>()
  const start = async () => {
    server = createServer((s) => {
      sockets.add(s)
      let buf = Buffer.alloc(0)
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        for (;;) {
          const sp = buf.indexOf(0x20)
          if (sp < 0) break
          const len = Number(buf.subarray(0, sp).toString())
          if (buf.length < sp + 1 + len) break
          const msg = buf.subarray(sp + 1, sp + 1 + len).toString()
          buf = buf.subarray(sp + 1 + len)
          const e = JSON.parse(msg.slice(msg.indexOf('{"@timestamp"'))) as { event: { action: string }, http?: { request?: { id?: string } }, gatehouse: { chain: { seq: number } } }
          got.push({ seq: e.gatehouse.chain.seq, action: e.event.action, requestId: e.http?.request?.id })
        }
      })
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
    })
    await new Promise<void>((resolve) => (server as Server).listen(port, '127.0.0.1', resolve))
  }
  const stop = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server?.close(resolve))
    server = null
  }
  return { got, start, stop }
}

const fileSeqs = (gw: TestGateway) => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => (JSON.parse(l) as { gatehouse: { chain: { seq: number } } }).gatehouse.chain.seq)

const open: Array<{ close: () => Promise<void> } | { stop: () => Promise<void> }> = []
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await ('close' in o ? o.close() : o.stop()).catch(() => {})
})

describe('the syslog server stopped and restarted', () => {
  it('with a file sink too: requests go on, and every event reaches syslog once it is back', async () => {
    const port = await freePort()
    const syslog = syslogReceiver(port)
    await syslog.start()
    open.push(syslog)
    const gw = await startTestGateway({ audit: { failClosed: true, sinks: [{ type: 'file', path: 'logs/audit.log' }, { type: 'syslog', url: `tcp://127.0.0.1:${port}` }] } })
    open.push(gw)
    expect((await call(gw, 'GET', '/api/tags')).status).toBe(200)
    await eventually(() => { expect(syslog.got.length).toBe(fileSeqs(gw).length) })

    await syslog.stop()
    const during: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await call(gw, 'GET', '/api/tags')
      expect(r.status).toBe(200)
      during.push(String(r.headers['x-request-id']))
    }
    await syslog.start()
    await eventually(() => {
      expect(new Set(syslog.got.map((g) => g.seq))).toEqual(new Set(fileSeqs(gw)))
    }, { timeoutMs: 10_000 })
    expect(during.filter((id) => !syslog.got.some((g) => g.requestId === id))).toEqual([])
  }, 20_000)

  it('syslog alone and fail-closed: 503 during the outage, and the queued events arrive after', async () => {
    const port = await freePort()
    const syslog = syslogReceiver(port)
    await syslog.start()
    open.push(syslog)
    const gw = await startTestGateway({ audit: { failClosed: true, sinks: [{ type: 'syslog', url: `tcp://127.0.0.1:${port}` }] } })
    open.push(gw)
    expect((await call(gw, 'GET', '/api/tags')).status).toBe(200)
    await eventually(() => { expect(syslog.got.some((g) => g.action === 'model-request')).toBe(true) })
    const before = syslog.got.length

    await syslog.stop()
    const refused: string[] = []
    await eventually(async () => {
      const r = await call(gw, 'GET', '/api/tags')
      refused.push(String(r.headers['x-request-id']))
      expect(r.status).toBe(503)
      expect(r.json).toEqual({ error: 'audit log unavailable; request refused' })
    })
    const upstreamBefore = gw.fake.received.length
    expect((await call(gw, 'POST', '/api/chat', { body: '{"model":"llama3.2","messages":[]}' })).status).toBe(503)
    expect(gw.fake.received.length).toBe(upstreamBefore)

    await syslog.start()
    await eventually(async () => { expect((await call(gw, 'GET', '/api/tags')).status).toBe(200) }, { timeoutMs: 10_000, intervalMs: 100 })
    // the chain has no hole: every seq from 1 to the last arrived, the outage's events included
    await eventually(() => {
      const seqs = [...new Set(syslog.got.map((g) => g.seq))].sort((x, y) => x - y)
      expect(seqs).toEqual(seqs.map((_, i) => i + 1))
      expect(syslog.got.length).toBeGreaterThan(before + 1)
    }, { timeoutMs: 10_000 })
    const last = refused.at(-1)
    expect(syslog.got.some((g) => g.requestId === last)).toBe(true)
  }, 20_000)
})
