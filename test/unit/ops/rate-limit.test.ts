// Per-identity limits on real sockets with a hand-moved clock and the memory SharedState:
// requests per minute answer 429 + Retry-After in the route's error shape; concurrent streams are
// capped and a slot comes back when the stream ends or the client hangs up.
import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../helpers/clock.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import type { SharedState } from '../../../src/cluster-state/types.js'
import { identityHeader, openStream, send, startHarness, type Harness } from './rate-limit-harness.js'
import { eventually } from '../../helpers/eventually.js'

let h: Harness | null = null
let state: SharedState | null = null
afterEach(async () => { await h?.close(); await state?.close(); h = null; state = null })

async function setup (limits: { requestsPerMinute: number, concurrentStreams: number }) {
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  state = createSharedState({ backend: 'memory', clock })
  const events: string[] = []
  h = await startHarness({
    sharedState: state, config: limits, clock,
    observe: { rateLimited: (l) => events.push(`limited:${l}`), streamOpened: () => events.push('open'), streamClosed: () => events.push('close') }
  })
  return { clock, h, events }
}

const alice = identityHeader({ name: 'alice' })
const bob = identityHeader({ name: 'bob' })

describe('requests per minute', () => {
  it('the request after the limit is a 429 GH_ERR_RATE_LIMITED with Retry-After until the window ends', async () => {
    const { clock, h, events } = await setup({ requestsPerMinute: 3, concurrentStreams: 8 })
    for (let i = 0; i < 3; i++) expect((await send(h.port, '/api/embed', alice)).status).toBe(200)
    clock.advance(20_500)
    const r = await send(h.port, '/api/embed', alice)
    expect(r.status).toBe(429)
    expect(JSON.parse(r.body)).toEqual({ error: 'rate limit exceeded' })
    expect(r.headers['retry-after']).toBe('40') // window began at the first hit: 60 - 20.5 → 40 (rounded up)
    expect(events).toContain('limited:requests')
    clock.advance(39_500)
    expect((await send(h.port, '/api/embed', alice)).status).toBe(200)
  })

  it('on /v1/* the 429 has OpenAI\'s error shape with type rate_limit_error', async () => {
    const { h } = await setup({ requestsPerMinute: 1, concurrentStreams: 8 })
    await send(h.port, '/v1/chat/completions', alice, { model: 'm' })
    const r = await send(h.port, '/v1/chat/completions', alice, { model: 'm' })
    expect(r.status).toBe(429)
    expect(JSON.parse(r.body)).toEqual({ error: { message: 'rate limit exceeded', type: 'rate_limit_error', code: 'GH_ERR_RATE_LIMITED' } })
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  })

  it('each identity has its own bucket: one user\'s exhaustion never limits another', async () => {
    const { h } = await setup({ requestsPerMinute: 2, concurrentStreams: 8 })
    for (let i = 0; i < 2; i++) await send(h.port, '/api/embed', alice)
    expect((await send(h.port, '/api/embed', alice)).status).toBe(429)
    expect((await send(h.port, '/api/embed', bob)).status).toBe(200)
  })

  it('all sessions of one user share a bucket, and an API key named like the user does not', async () => {
    const { h } = await setup({ requestsPerMinute: 2, concurrentStreams: 8 })
    await send(h.port, '/api/embed', identityHeader({ name: 'alice', credentialId: 'session-1' }))
    await send(h.port, '/api/embed', identityHeader({ name: 'alice', credentialId: 'session-2' }))
    expect((await send(h.port, '/api/embed', identityHeader({ name: 'alice', credentialId: 'session-3' }))).status).toBe(429)
    expect((await send(h.port, '/api/embed', identityHeader({ name: 'alice', credential: 'api_key', credentialId: 'key-1' }))).status).toBe(200)
  })
})

describe('concurrent streams', () => {
  it('the stream past the limit is a 429 GH_ERR_TOO_MANY_STREAMS with Retry-After; non-streamed requests still pass', async () => {
    const { h, events } = await setup({ requestsPerMinute: 100, concurrentStreams: 2 })
    const a = await openStream(h.port, '/api/chat', alice)
    const b = await openStream(h.port, '/api/generate', alice)
    expect([a.status, b.status]).toEqual([200, 200])
    const c = await send(h.port, '/api/chat', alice, { model: 'm' }) // /api/* streams by default
    expect(c.status).toBe(429)
    expect(JSON.parse(c.body)).toEqual({ error: 'too many concurrent streams' })
    expect(Number(c.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect((await send(h.port, '/api/chat', alice, { model: 'm', stream: false })).status).toBe(200)
    expect((await send(h.port, '/api/embed', alice, { model: 'm' })).status).toBe(200)
    expect((await openStream(h.port, '/api/chat', bob)).status).toBe(200)
    expect(events.filter((e) => e === 'open')).toHaveLength(3)
    expect(events).toContain('limited:streams')
  })

  it('a finished stream gives its slot back', async () => {
    const { h, events } = await setup({ requestsPerMinute: 100, concurrentStreams: 1 })
    const a = await openStream(h.port, '/api/chat', alice)
    expect((await send(h.port, '/api/chat', alice, { model: 'm' })).status).toBe(429)
    h.endStreams()
    expect(await a.body).toContain('"done":true')
    await eventually(() => expect(events).toContain('close'))
    expect((await openStream(h.port, '/api/chat', alice)).status).toBe(200)
  })

  it('a client that hangs up gives its slot back', async () => {
    const { h, events } = await setup({ requestsPerMinute: 100, concurrentStreams: 1 })
    const a = await openStream(h.port, '/api/chat', alice)
    expect((await send(h.port, '/api/chat', alice, { model: 'm' })).status).toBe(429)
    a.req.destroy()
    await eventually(() => expect(events).toContain('close'))
    expect((await openStream(h.port, '/api/chat', alice)).status).toBe(200)
  })

  it('/v1/* counts a stream only when the body asks for one; Go-style keys ("STREAM", last duplicate) decide', async () => {
    const { h } = await setup({ requestsPerMinute: 100, concurrentStreams: 1 })
    await openStream(h.port, '/v1/chat/completions', alice, { model: 'm', stream: true })
    expect((await send(h.port, '/v1/chat/completions', alice, { model: 'm' })).status).toBe(200)
    expect((await send(h.port, '/v1/chat/completions', alice, { model: 'm', stream: false })).status).toBe(200)
    const sneaky = await send(h.port, '/v1/chat/completions', alice, '{"model":"m","stream":false,"STREAM":true}')
    expect(sneaky.status).toBe(429)
    expect(JSON.parse(sneaky.body).error.code).toBe('GH_ERR_TOO_MANY_STREAMS')
  })

  it('progress routes (pull) count as streams', async () => {
    const { h } = await setup({ requestsPerMinute: 100, concurrentStreams: 1 })
    await openStream(h.port, '/api/pull', alice, { model: 'm' })
    expect((await send(h.port, '/api/pull', alice, { model: 'm' })).status).toBe(429)
  })
})
