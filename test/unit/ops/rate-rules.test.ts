// The pure rules behind the limits: whose bucket, whether a body asks for a stream (read once, by
// the policy, as Ollama's Go decoder reads it), and the Retry-After arithmetic.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { identityKey, wantsStream as wantsStreamOf } from '../../../src/ops/rate-rules.js'
import { retryAfterSeconds } from '../../../src/clock.js'
import { authorize } from '../../../src/rbac/authorize.js'
import { createPolicy } from '../../../src/rbac/policy.js'
import { PROXIED_ROUTES, type ProxiedRoute } from '../../../src/ollama/routes.js'

const route = (id: string) => {
  const r = PROXIED_ROUTES.find((x) => x.id === id)
  if (!r) throw new Error(id)
  return r
}
const b = (s: string) => Buffer.from(s)
const everything = createPolicy({ all: { permissions: ['*'], models: ['*'] } })

/** The decision as the gateway takes it: the policy reads `stream` from the body, the rule decides on that. */
function wantsStream (r: ProxiedRoute, body: Buffer): boolean {
  const result = authorize(everything, r, ['all'], body, {})
  if (!result.ok) throw new Error(`${r.id}: ${result.reason}`)
  return wantsStreamOf(r, result.stream)
}

describe('wantsStream', () => {
  const chat = route('POST /api/chat')
  const v1 = route('POST /v1/chat/completions')
  it('/api/* streams unless stream is false (absent and null mean the default: stream)', () => {
    expect(wantsStream(chat, b('{"model":"m"}'))).toBe(true)
    expect(wantsStream(chat, b('{"model":"m","stream":null}'))).toBe(true)
    expect(wantsStream(chat, b('{"model":"m","stream":true}'))).toBe(true)
    expect(wantsStream(chat, b('{"model":"m","stream":false}'))).toBe(false)
  })
  it('/v1/* streams only when stream is set', () => {
    expect(wantsStream(v1, b('{"model":"m"}'))).toBe(false)
    expect(wantsStream(v1, b('{"model":"m","stream":false}'))).toBe(false)
    expect(wantsStream(v1, b('{"model":"m","stream":null}'))).toBe(false)
    expect(wantsStream(v1, b('{"model":"m","stream":true}'))).toBe(true)
  })
  it('keys match case-insensitively and the last duplicate wins, as in Go', () => {
    expect(wantsStream(chat, b('{"model":"m","stream":true,"Stream":false}'))).toBe(false)
    expect(wantsStream(chat, b('{"model":"m","stream":false,"STREAM":true}'))).toBe(true)
    expect(wantsStream(v1, b('{"model":"m","stream":false,"ſtream":true}'))).toBe(true) // U+017F folds to s in Go
  })
  it('routes that never stream are never counted', () => {
    for (const id of ['POST /api/embed', 'POST /v1/embeddings', 'POST /api/show', 'GET /api/tags']) {
      expect(wantsStream(route(id), b(id.startsWith('GET') ? '' : '{"model":"m","stream":true}')), id).toBe(false)
    }
  })
  it('progress routes stream by default', () => {
    expect(wantsStream(route('POST /api/pull'), b('{"model":"m"}'))).toBe(true)
    expect(wantsStream(route('POST /api/pull'), b('{"model":"m","stream":false}'))).toBe(false)
  })
})

describe('the stream member the limit counted is the one Ollama reads', () => {
  it('survives a re-serialization of the forwarded body (as prompt masking does with JSON.parse/stringify)', () => {
    const chat = route('POST /api/chat')
    // Go reads the last case-insensitive match: false. A JSON.parse round trip of the raw body would keep
    // "stream" in first place with the last exact-key value and "STREAM" after it, so Go would read true.
    const body = b('{"model":"m","stream":false,"STREAM":true,"stream":false}')
    const result = authorize(everything, chat, ['all'], body, {})
    if (!result.ok || result.forwardBody === null) throw new Error('expected an allowed JSON request')
    expect(result.stream).toBe('false')
    expect(wantsStreamOf(chat, result.stream)).toBe(false)
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(result.forwardBody.toString('utf8'))))
    expect(wantsStream(chat, reserialized)).toBe(false)
    expect(result.forwardBody.toString('utf8')).toBe('{"model":"m","stream":false}')
  })
})

describe('identityKey', () => {
  it('sessions of one user share a key; API keys are keyed by id; the two never collide', () => {
    expect(identityKey({ credential: 'session', name: 'alice', credentialId: 'a' })).toBe(identityKey({ credential: 'session', name: 'alice', credentialId: 'b' }))
    expect(identityKey({ credential: 'api_key', name: 'svc', credentialId: 'k1' })).not.toBe(identityKey({ credential: 'api_key', name: 'svc', credentialId: 'k2' }))
    fc.assert(fc.property(fc.string(), fc.string(), (name, id) =>
      identityKey({ credential: 'session', name, credentialId: id }) !== identityKey({ credential: 'api_key', name, credentialId: name })))
  })
})

describe('retryAfterSeconds', () => {
  it('is the whole seconds left, rounded up, never below 1', () => {
    expect(retryAfterSeconds(60_000, 0)).toBe(60)
    expect(retryAfterSeconds(60_000, 59_999)).toBe(1)
    expect(retryAfterSeconds(60_000, 60_000)).toBe(1)
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 120_000 }), (now, left) => {
      const s = retryAfterSeconds(now + left, now)
      return s >= 1 && s * 1000 >= left && (s - 1) * 1000 < Math.max(left, 1)
    }))
  })
})
