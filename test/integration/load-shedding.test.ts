// Load shedding through a real gateway (limits.maxEventLoopDelayMs): once its event loop has run
// behind, new proxied requests get 503 GH_ERR_OVERLOADED with Retry-After before any credential is
// read, audited as counted refusals; the control surface is still served; once the loop has caught
// up, requests are served again. Off (0) by default: the same stall sheds nothing.
import { performance } from 'node:perf_hooks'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/eventually.js'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import type { AuditLine } from '../helpers/audit-lines.js'

/** holds this process's event loop (and the gateway's, which runs in it) for `ms` */
function stall (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy: nothing else runs */ }
}

const body = JSON.stringify({ model: 'llama3.2', prompt: 'hello', stream: false })

describe('load shedding', () => {
  let gw: TestGateway
  let closed = false
  /** 503s the clients got: each must be in the audit trail once, counted or written */
  let shedReplies = 0
  const counted = async <R extends { status: number }>(reply: Promise<R>): Promise<R> => {
    const r = await reply
    if (r.status === 503) shedReplies++
    return r
  }
  beforeAll(async () => { gw = await startTestGateway({ limits: { maxEventLoopDelayMs: 100 } }) })
  afterAll(async () => { if (!closed) await gw?.close() })

  it('refuses new proxied requests with 503 and Retry-After after a stall, serves the control surface, then serves again', async () => {
    const key = await gw.createKey('user')
    let served = 0
    const send = async () => {
      const r = await counted(call(gw, 'POST', '/api/generate', { anonymous: true, headers: { authorization: `Bearer ${key}` }, body }))
      if (r.status === 200) served++
      return r
    }
    const admin = () => call(gw, 'GET', '/admin/keys')
    const adminStatus = (await admin()).status
    // served once the loop is not behind (the test's own set-up may have held it)
    await eventually(async () => { expect((await send()).status).toBe(200) }, { timeoutMs: 10_000, intervalMs: 100 })

    // each attempt stalls the loop past the limit and asks at once, inside the quarter second the stall is held
    const shed = await eventually(async () => {
      stall(400)
      const [proxied, health, control] = await Promise.all([send(), call(gw, 'GET', '/healthz', { anonymous: true }), admin()])
      expect(proxied.status).toBe(503)
      expect(health.status).toBe(200)
      expect(control.status).toBe(adminStatus) // answered as ever, not shed
      return proxied
    }, { timeoutMs: 10_000 })
    expect(shed.headers['retry-after']).toBe('1')
    // no key was read: a request without one is shed the same way, not answered 401 (here on /v1, whose errors carry the code)
    await eventually(async () => {
      stall(400)
      const keyless = await counted(call(gw, 'GET', '/v1/models', { anonymous: true }))
      expect(keyless.status).toBe(503)
      expect(keyless.json?.error).toMatchObject({ code: 'GH_ERR_OVERLOADED' })
    }, { timeoutMs: 10_000 })

    await eventually(async () => { expect((await send()).status).toBe(200) }, { timeoutMs: 10_000, intervalMs: 100 })
    // what was shed never reached Ollama: it saw exactly the requests that were served
    expect(gw.fake.received.filter((r) => r.url === '/api/generate')).toHaveLength(served)
    const metrics = (await call(gw, 'GET', '/metrics')).text
    expect(Number(/^gatehouse_requests_shed_total (\d+)/m.exec(metrics)?.[1])).toBe(shedReplies)
  })

  it('audits what it shed as counted denials with the reason overloaded, every one accounted for', async () => {
    const before = shedReplies
    await eventually(async () => {
      stall(400)
      // several methods and paths: one kind per source all the same
      await Promise.all([
        ...Array.from({ length: 3 }, () => counted(call(gw, 'POST', '/api/chat', { anonymous: true, body }))),
        counted(call(gw, 'GET', '/v1/models/llama3.2', { anonymous: true })),
        counted(call(gw, 'GET', '/v1/models/qwen2.5', { anonymous: true }))
      ])
      expect(shedReplies - before).toBeGreaterThanOrEqual(5)
    }, { timeoutMs: 10_000 })
    closed = true
    await gw.close() // writes the counts still open
    const shed = events().filter(isShed)
    // counted, not written one by one: one kind per source, so one event at once and one with the count
    expect(shed.length).toBeLessThanOrEqual(2)
    expect(shed.every((e) => e.gatehouse.decision === 'deny' && e.event.outcome === 'failure' && e.user === undefined)).toBe(true)
    expect(shed.reduce((n, e) => n + (e.gatehouse.repeat_count ?? 1), 0)).toBe(shedReplies)
  })

  function events (): AuditLine[] {
    return readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
  }
  const isShed = (e: AuditLine): boolean => e.http?.response?.status_code === 503 && e.gatehouse.reason === 'overloaded'
})

describe('load shedding off (the default)', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw?.close() })

  it('serves a request that arrives right after a stall', async () => {
    const key = await gw.createKey('user')
    stall(400)
    const r = await call(gw, 'POST', '/api/generate', { anonymous: true, headers: { authorization: `Bearer ${key}` }, body })
    expect(r.status).toBe(200)
  })
})
