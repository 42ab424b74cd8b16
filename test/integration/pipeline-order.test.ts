// The pipeline's order as a property: a request the rate limit refuses is refused before prompt
// masking runs, so it costs no masking work and its audit event counts nothing masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import type { AuditLine } from '../helpers/audit-lines.js'
import { PIPELINE_STAGES } from '../../src/pipeline/index.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ masking: { direction: 'both' }, rateLimit: { requestsPerMinute: 1 } }) })
afterAll(async () => { await gw?.close() })

const events = () => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)

describe('pipeline order', () => {
  it('lists the rate limit before prompt masking', () => {
    expect(PIPELINE_STAGES.indexOf('rate limit')).toBeLessThan(PIPELINE_STAGES.indexOf('prompt masking'))
  })

  it('a request refused by the rate limit is not masked', async () => {
    const key = await gw.createKey('user')
    const body = JSON.stringify({ model: 'llama3.2', prompt: 'write to jane.doe@example.com', stream: false })
    const send = () => call(gw, 'POST', '/api/generate', { anonymous: true, headers: { authorization: `Bearer ${key}` }, body })

    expect((await send()).status).toBe(200)
    const refused = await send()
    expect(refused.status).toBe(429)

    const requests = events().filter((e) => e.url?.path === '/api/generate')
    expect(requests.map((e) => e.http?.response?.status_code)).toEqual([200, 429])
    // the allowed request's prompt was masked; the refused one never reached the masker
    expect(requests[0]?.gatehouse.masked).toMatchObject({ email: 1 })
    expect(Object.values(requests[1]?.gatehouse.masked ?? {}).reduce((a, n) => a + n, 0)).toBe(0)
    expect(gw.fake.received.filter((r) => r.url === '/api/generate')).toHaveLength(1)
  })

  it('a request refused by the rate limit is audited as a denial with its reason', async () => {
    const key = await gw.createKey('user')
    const body = JSON.stringify({ model: 'llama3.2', prompt: 'hello', stream: false })
    const send = () => call(gw, 'POST', '/api/chat', { anonymous: true, headers: { authorization: `Bearer ${key}` }, body })
    expect((await send()).status).toBe(200)
    expect((await send()).status).toBe(429)
    const refused = events().filter((e) => e.url?.path === '/api/chat' && e.http?.response?.status_code === 429)
    expect(refused).toHaveLength(1)
    expect(refused[0]?.gatehouse.decision).toBe('deny')
    expect(refused[0]?.gatehouse.reason).toBe('rate-limit:requests')
    expect(refused[0]?.event.outcome).toBe('failure')
  })
})
