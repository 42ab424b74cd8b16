// Fault: the Redis that holds the shared counters (rate limits, stream slots, login throttles)
// restarts while Gatehouse runs. During the outage a request that needs a counter fails closed with
// 503 GH_ERR_SHARED_STATE_UNAVAILABLE and reaches no upstream (no silent fallback to per-process
// counters); after the restart the counters start again from zero and limits hold again. The
// server is a private one the test owns, never the shared one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import { privateRedisMissing, startPrivateRedis, type PrivateRedis } from '../helpers/private-servers.js'

const missing = privateRedisMissing()
// in CI a missing server binary is a failure, as for the other server-backed suites
if (missing && process.env.CI === 'true') throw new Error(`a private Redis is required in CI: ${missing}`)
if (missing) console.warn(`[skip] private Redis: ${missing}`)

describe.skipIf(missing !== null)('Redis restarted under a running gateway', () => {
  let redis: PrivateRedis
  let gw: TestGateway
  beforeAll(async () => {
    redis = await startPrivateRedis()
    gw = await startTestGateway({ redis: { url: redis.url, keyPrefix: 'fault:' }, rateLimit: { requestsPerMinute: 3 } })
  }, 30_000)
  afterAll(async () => {
    await gw?.close()
    await redis?.destroy()
  })

  it('refuses with 503 while Redis is down, then enforces the limit again once it is back', async () => {
    const headers = { authorization: `Bearer ${await gw.createKey('user', 'redis-restart')}` }
    const statuses = async (n: number) => {
      const out: number[] = []
      for (let i = 0; i < n; i++) out.push((await call(gw, 'GET', '/api/tags', { headers })).status)
      return out
    }
    expect(await statuses(4)).toEqual([200, 200, 200, 429])

    await redis.stop()
    const upstreamBefore = gw.fake.received.length
    const down = await call(gw, 'GET', '/api/tags', { headers })
    expect(down.status).toBe(503)
    expect(down.json).toMatchObject({ error: 'shared state unavailable; request refused' })
    const chat = await call(gw, 'POST', '/api/chat', { headers, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(chat.status).toBe(503)
    expect(gw.fake.received.length).toBe(upstreamBefore)

    await redis.start()
    // the restarted Redis kept nothing (no persistence): the window starts again, and the limit holds
    await eventually(async () => {
      expect((await call(gw, 'GET', '/api/tags', { headers })).status).toBe(200)
    }, { timeoutMs: 15_000, intervalMs: 200 })
    expect(await statuses(3)).toEqual([200, 200, 429])
  }, 40_000)
})
