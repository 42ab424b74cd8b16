// Security: requests with a bogus key cannot be turned into audit volume. Past a per-source limit
// they get 429 with Retry-After (valid credentials from the same address still work), identical
// refusals are written once and then counted, so a flood writes a bounded number of bytes — and
// the counts are exact: the events add up to the requests made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { verifyAuditFiles } from '../../src/audit/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import type { AuditLine } from '../helpers/audit-lines.js'

const N = 300
const LIMIT = 40
let gw: TestGateway
let logPath: string
let closed = false

type Line = AuditLine & { gatehouse: AuditLine['gatehouse'] & { repeat_count?: number } }
const read = (): Line[] => readFileSync(logPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line)
const counted = (events: Line[]) => events.reduce((n, e) => n + (e.gatehouse.repeat_count ?? 1), 0)

beforeAll(async () => {
  gw = await startTestGateway({ auth: { unauthenticated: { perIpMaxPerMinute: LIMIT, auditWindowSeconds: 3600 } } })
  logPath = join(gw.dir, 'logs', 'audit.log')
})
afterAll(async () => { if (!closed) await gw?.close() })

describe('a flood of requests with a bogus API key', () => {
  const statuses = new Map<number, number>()
  let grewBy = 0

  it('is throttled per source with 429 and Retry-After, and writes a bounded number of bytes', async () => {
    await gw.gateway.audit.flush()
    const before = statSync(logPath).size
    const bogus = { authorization: 'Bearer ghk_' + 'A'.repeat(43) }
    let retryAfter: string | undefined
    for (let i = 0; i < N; i++) {
      const res = await request(gw.url + '/api/chat', { method: 'POST', headers: { ...bogus, 'content-type': 'application/json' }, body: '{"model":"llama3.2","messages":[]}', dispatcher: gw.dispatcher })
      await res.body.text()
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode === 429) retryAfter ??= res.headers['retry-after'] as string | undefined
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: LIMIT, 429: N - LIMIT })
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number(retryAfter)).toBeLessThanOrEqual(60)
    // the first refusal of each kind is on disk at once; the rest are counted
    await gw.gateway.audit.flush()
    grewBy = statSync(logPath).size - before
    const kinds = read().filter((e) => e.source?.ip === '127.0.0.1' && (e.event.action === 'token-rejected' || e.url?.path === '/api/chat'))
    expect(kinds.map((e) => [e.event.action, e.http?.response?.status_code ?? null]).sort()).toEqual([
      ['access-denied', 401], ['access-denied', 429], ['token-rejected', null]
    ])
    expect(grewBy).toBeLessThan(8 * 1024) // unthrottled and unaggregated: ~2 events, ~1.4 KB, per request
  })

  it('valid credentials from the same address are not throttled', async () => {
    const res = await request(gw.url + '/api/tags', { headers: gw.auth, dispatcher: gw.dispatcher })
    await res.body.text()
    expect(res.statusCode).toBe(200)
  })

  it('the counts written at shutdown add up to exactly the requests made, and the log verifies', async () => {
    closed = true
    await gw.close()
    const mine = read().filter((e) => e.source?.ip === '127.0.0.1')
    const denied = mine.filter((e) => e.event.action === 'access-denied' && e.url?.path === '/api/chat')
    expect(counted(denied)).toBe(N)
    expect(counted(denied.filter((e) => e.http?.response?.status_code === 401))).toBe(statuses.get(401))
    expect(counted(denied.filter((e) => e.http?.response?.status_code === 429))).toBe(statuses.get(429))
    // a throttled request is one access-denied event; only the ones checked are token-rejected
    expect(counted(mine.filter((e) => e.event.action === 'token-rejected'))).toBe(LIMIT)
    const aggregated = denied.find((e) => e.gatehouse.repeat_count !== undefined) as Line & { event: { start?: string, end?: string } }
    expect(aggregated.event.start).toBeDefined()
    expect(aggregated.event.end).toBeDefined()
    const result = await verifyAuditFiles([logPath], { chainKey: gw.gateway.secrets.auditChainKey, checkpointPublicKey: gw.gateway.secrets.auditCheckpoint.publicKey })
    expect(result.firstBad).toBeUndefined()
    expect(result.ok).toBe(true)
  })
})
