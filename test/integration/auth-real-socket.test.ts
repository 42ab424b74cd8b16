// The whole login flow over a real TCP socket (undici), including concurrent TOTP submissions
// racing on separate connections: exactly one of them gets a session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createHarness, secretOf, codeAt, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
let base: string

beforeAll(async () => {
  h = await createHarness({ auth: { lockout: { maxFailedAttempts: 10 } } })
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`
})
afterAll(async () => { await h.close() })

async function post (path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await r.body.text()
  return { status: r.statusCode, headers: r.headers, json: text ? JSON.parse(text) : null }
}

describe('auth over a real socket', () => {
  it('login, enrollment, cookie session, /auth/me and logout', async () => {
    await h.auth.userAdmin.addUser('alice', 'admin', TEST_PASSWORD)
    const l = await post('/auth/login', { username: 'Alice', password: TEST_PASSWORD })
    expect(l.status).toBe(200)
    expect(l.json.status).toBe('mfa_enrollment_required')
    const m = await post('/auth/mfa', { mfa_token: l.json.mfa_token, code: await codeAt(h, secretOf(l.json.otpauth_url)) })
    expect(m.status).toBe(200)
    const cookie = String(m.headers['set-cookie']).split(';')[0] as string

    const me = await request(`${base}/auth/me`, { headers: { cookie } })
    expect(me.statusCode).toBe(200)
    expect(await me.body.json()).toMatchObject({ username: 'alice', roles: ['admin'], amr: ['pwd', 'otp'] })

    const out = await post('/auth/logout', {}, { authorization: `Bearer ${m.json.access_token}` })
    expect(out.status).toBe(204)
    const after = await request(`${base}/auth/me`, { headers: { cookie } })
    expect(after.statusCode).toBe(401)
    expect(after.headers['www-authenticate']).toBe('Bearer')
    await after.body.dump()
  })

  it('parallel submissions of one code on separate connections yield exactly one session', async () => {
    h.clock.advance(60_000)
    const secret = await (async () => {
      await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
      const l = await post('/auth/login', { username: 'bob', password: TEST_PASSWORD })
      const s = secretOf(l.json.otpauth_url)
      expect((await post('/auth/mfa', { mfa_token: l.json.mfa_token, code: await codeAt(h, s) })).status).toBe(200)
      return s
    })()
    h.clock.advance(30_000)
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(async () => (await post('/auth/login', { username: 'bob', password: TEST_PASSWORD })).json.mfa_token as string))
    const code = await codeAt(h, secret)
    const results = await Promise.all(tokens.map((t) => post('/auth/mfa', { mfa_token: t, code })))
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.status === 401)).toHaveLength(4)
    expect(h.events.filter((e) => e.action === 'totp-replay' && e.userName === 'bob')).toHaveLength(4)
  })
})
