// The pure rules behind the limits: whose bucket, whether a body asks for a stream (read as
// Ollama's Go decoder reads it), and the Retry-After arithmetic.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { identityKey, retryAfterSeconds, wantsStream } from '../../../src/ops/rate-rules.js'
import { PROXIED_ROUTES } from '../../../src/rbac/route-map.js'

const route = (id: string) => {
  const r = PROXIED_ROUTES.find((x) => x.id === id)
  if (!r) throw new Error(id)
  return r
}
const b = (s: string) => Buffer.from(s)

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
    expect(wantsStream(chat, b('{"stream":true,"Stream":false}'))).toBe(false)
    expect(wantsStream(chat, b('{"stream":false,"STREAM":true}'))).toBe(true)
    expect(wantsStream(v1, b('{"stream":false,"ſtream":true}'))).toBe(true) // U+017F folds to s in Go
  })
  it('routes that never stream are never counted', () => {
    for (const id of ['POST /api/embed', 'POST /v1/embeddings', 'POST /api/show', 'GET /api/tags']) {
      expect(wantsStream(route(id), b('{"stream":true}')), id).toBe(false)
    }
  })
  it('progress routes stream by default', () => {
    expect(wantsStream(route('POST /api/pull'), b('{"model":"m"}'))).toBe(true)
    expect(wantsStream(route('POST /api/pull'), b('{"model":"m","stream":false}'))).toBe(false)
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
