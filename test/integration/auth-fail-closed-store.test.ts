// Security regression: when the store cannot answer who a credential belongs to, the request fails
// (no identity, no upstream); it never falls through as if the credential were fine or absent-but-allowed.
import { afterEach, describe, expect, it } from 'vitest'
import type { StoreBackend } from '../../src/store/types.js'
import { createHarness, enrolledSession, bearer, type Harness } from '../unit/auth/harness.js'

let h: Harness
afterEach(async () => { await h.close() })

/** the store as the auth module sees it, with the named methods throwing while `broken` holds them */
function breakable (broken: Set<string>) {
  return (store: StoreBackend): StoreBackend => new Proxy(store, {
    get (target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown
      if (typeof v !== 'function') return v
      return async (...args: unknown[]) => {
        if (broken.has(String(prop))) throw new Error(`store unavailable (${String(prop)})`)
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
}

const routes = [
  { method: 'GET' as const, url: '/api/tags' },
  { method: 'POST' as const, url: '/v1/chat/completions' },
  { method: 'GET' as const, url: '/auth/me' }
]

describe('store errors fail closed', () => {
  it('getSessionWithUser throwing: a session token (header or cookie) gets no identity and no 2xx', async () => {
    const broken = new Set<string>()
    h = await createHarness({}, { wrapStore: breakable(broken) })
    const { token } = await enrolledSession(h)
    expect((await h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })).statusCode).toBe(200)
    broken.add('getSessionWithUser')
    for (const headers of [bearer(token), { cookie: `__Host-gatehouse=${token}` }]) {
      for (const r of routes) {
        const res = await h.app.inject({ ...r, headers, ...(r.method === 'POST' ? { payload: {} } : {}) })
        expect(res.statusCode, `${r.url} ${Object.keys(headers)[0]}`).toBeGreaterThanOrEqual(400)
        expect(res.body).not.toContain('alice')
      }
    }
  })

  it('getApiKeyByHash throwing: an API key (Bearer or Basic) gets no identity and no 2xx', async () => {
    const broken = new Set<string>()
    h = await createHarness({}, { wrapStore: breakable(broken) })
    const { key } = await h.auth.userAdmin.createKey({ name: 'loader', role: 'model-loader', expiresIn: null })
    expect((await h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(key) })).statusCode).toBe(200)
    broken.add('getApiKeyByHash')
    const basic = { authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` }
    for (const headers of [bearer(key), basic]) {
      for (const r of routes) {
        const res = await h.app.inject({ ...r, headers, ...(r.method === 'POST' ? { payload: {} } : {}) })
        expect(res.statusCode, `${r.url} ${headers.authorization.split(' ')[0] ?? ''}`).toBeGreaterThanOrEqual(400)
        expect(res.body).not.toContain('loader')
      }
    }
  })
})
