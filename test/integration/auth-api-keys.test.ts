// API keys: accepted as Bearer and inside Basic, one role, expiry, last use, revocation on the next
// request, never on /admin/*, and a rejection that echoes neither the key nor its hash.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, enrolledSession, bearer, type Harness } from '../unit/auth/harness.js'
import { hashApiKey } from '../../src/auth/api-keys.js'

let h: Harness
afterEach(async () => { await h.close() })

const basic = (user: string, key: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}` })
const tags = (headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/tags', headers })

async function newKey (role = 'model-loader', expiresIn: string | null = '90d') {
  return h.auth.userAdmin.createKey({ name: 'ci-loader', role, expiresIn })
}

describe('API keys', () => {
  it('a key is ghk_ + 43 base64url characters (256 bits) and only its SHA-256 is stored', async () => {
    h = await createHarness()
    const { key, record } = await newKey()
    expect(key).toMatch(/^ghk_[A-Za-z0-9_-]{43}$/)
    const stored = await h.store.getApiKey(record.id)
    expect(stored?.keyHash).toBe(hashApiKey(key))
    expect(JSON.stringify(stored)).not.toContain(key.slice(4))
    expect(record).toMatchObject({ name: 'ci-loader', role: 'model-loader', prefix: key.slice(4, 12), status: 'active' })
    expect(JSON.stringify(h.events)).not.toContain(key)
    expect(h.events.find((e) => e.action === 'key-created')?.target).toEqual({ keyId: record.id, keyName: 'ci-loader', role: 'model-loader' })
  })

  it('is accepted as Authorization: Bearer, with its one role, and its last use is tracked', async () => {
    h = await createHarness()
    const { key, record } = await newKey()
    const r = await tags(bearer(key))
    expect(r.statusCode).toBe(200)
    expect(r.json().identity).toEqual({
      credential: 'api_key', name: 'ci-loader', roles: ['model-loader'], amr: [], credentialId: record.id, expiresAt: record.expiresAt
    })
    expect((await h.store.getApiKey(record.id))?.lastUsedAt).toBe(h.clock.now())
  })

  it('is accepted as Authorization: Basic base64(anything:key)', async () => {
    h = await createHarness()
    const { key } = await newKey()
    expect((await tags(basic('anything', key))).statusCode).toBe(200)
    expect((await tags(basic('', key))).statusCode).toBe(200)
  })

  it('works with the OpenAI route family too (error shape is the app\'s concern)', async () => {
    h = await createHarness()
    const { key } = await newKey('user')
    const r = await h.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: bearer(key), payload: {} })
    expect(r.statusCode).toBe(200)
  })

  it('an expired key is rejected', async () => {
    h = await createHarness()
    const { key } = await newKey('user', '1m')
    expect((await tags(bearer(key))).statusCode).toBe(200)
    h.clock.advance(60_000)
    const r = await tags(bearer(key))
    expect(r.statusCode).toBe(401)
    expect(h.events.at(-1)).toMatchObject({ action: 'token-rejected', reason: 'key_expired' })
  })

  it('a revoked key is rejected on the very next request', async () => {
    h = await createHarness()
    const { key, record } = await newKey()
    expect((await tags(bearer(key))).statusCode).toBe(200)
    const revoked = await h.auth.userAdmin.revokeKey(record.id)
    expect(revoked.status).toBe('revoked')
    expect((await tags(bearer(key))).statusCode).toBe(401)
    expect((await tags(basic('x', key))).statusCode).toBe(401)
    expect(h.events.at(-1)).toMatchObject({ action: 'token-rejected', reason: 'key_revoked' })
  })

  it('malformed keys are rejected without a lookup', async () => {
    h = await createHarness()
    for (const bad of ['ghk_', 'ghk_short', `ghk_${'A'.repeat(42)}!`, `ghk_${'A'.repeat(200)}`]) {
      const r = await tags(bearer(bad))
      expect(r.statusCode, bad).toBe(401)
      expect(h.events.at(-1)?.reason).toBe('malformed_key')
    }
  })

  it('a wrong key\'s 401 echoes neither the key nor its hash', async () => {
    h = await createHarness()
    const { key } = await newKey()
    const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')
    for (const headers of [bearer(wrong), basic('svc', wrong)]) {
      const r = await tags(headers)
      expect(r.statusCode).toBe(401)
      expect(r.headers['www-authenticate']).toBe('Bearer')
      const everything = r.body + JSON.stringify(r.headers) + JSON.stringify(h.events)
      for (const secret of [wrong, wrong.slice(4), hashApiKey(wrong), key]) expect(everything).not.toContain(secret)
    }
    expect(h.events.at(-1)).toMatchObject({ action: 'token-rejected', reason: 'unknown_key' })
  })

  it('a key is never valid on /admin/*, even with the admin role', async () => {
    h = await createHarness()
    const { key, record } = await newKey('admin')
    for (const headers of [bearer(key), basic('admin', key)]) {
      const r = await h.app.inject({ method: 'GET', url: '/admin/users', headers })
      expect(r.statusCode).toBe(403)
      expect(r.json()).toEqual({ error: 'API keys cannot use the admin API; sign in' })
      expect(r.headers['www-authenticate']).toBeUndefined()
    }
    expect(h.events.at(-1)).toMatchObject({ action: 'token-rejected', reason: 'api_key_not_allowed' })
    // refused before the lookup: the key's last use did not move
    expect((await h.store.getApiKey(record.id))?.lastUsedAt).toBeNull()
  })

  it('a key cannot log out; /auth/me answers for it', async () => {
    h = await createHarness()
    const { key } = await newKey('monitor', null)
    const out = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(key) })
    expect(out.statusCode).toBe(403)
    expect(out.json()).toEqual({ error: 'API keys cannot use /auth/logout; sign in' })
    const me = await h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(key) })
    expect(me.json()).toEqual({ username: 'ci-loader', roles: ['monitor'], amr: [], expires_at: null, password_change_required: false })
  })

  it('Basic with a password instead of a key is rejected (passwords only go to /auth/login)', async () => {
    h = await createHarness()
    await enrolledSession(h)
    const r = await tags(basic('alice', 'violet-harbor-cinnamon-42'))
    expect(r.statusCode).toBe(401)
    expect(h.events.at(-1)).toMatchObject({ action: 'token-rejected', reason: 'basic_not_api_key' })
  })

  it('an unknown authorization scheme is rejected rather than ignored (no fallback to the cookie)', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', 'violet-harbor-cinnamon-42')
    const login = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'bob', password: 'violet-harbor-cinnamon-42' } })
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string
    expect((await tags({ cookie })).statusCode).toBe(200)
    expect((await tags({ cookie, authorization: 'Digest abc' })).statusCode).toBe(401)
    expect((await tags({ cookie, authorization: 'Bearer nonsense' })).statusCode).toBe(401)
  })

  it('keys need a configured role and a sane name', async () => {
    h = await createHarness()
    await expect(h.auth.userAdmin.createKey({ name: 'x', role: 'superuser', expiresIn: null })).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    await expect(h.auth.userAdmin.createKey({ name: 'bad name', role: 'user', expiresIn: null })).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    await expect(h.auth.userAdmin.revokeKey('no-such-id')).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
  })
})
