// The login flow end to end through Fastify inject: password, TOTP enrollment, TOTP
// verification, /auth/me, logout, cookies, and the MFA policy.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, login, mfa, secretOf, codeAt, bearer, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
afterEach(async () => { await h.close() })

describe('login flow', () => {
  it('a user whose role needs MFA and has none is sent to enrollment with an otpauth URL', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const r = await login(h, 'alice', TEST_PASSWORD)
    expect(r.statusCode).toBe(200)
    const body = r.json()
    expect(body.status).toBe('mfa_enrollment_required')
    expect(typeof body.mfa_token).toBe('string')
    expect(body.otpauth_url).toMatch(/^otpauth:\/\/totp\/Gatehouse:alice\?secret=[A-Z2-7]{32}&issuer=Gatehouse$/)
    expect(r.headers['set-cookie']).toBeUndefined()
    expect(r.headers['cache-control']).toBe('no-store')
    // the secret is not stored until the first valid code completes enrollment
    expect((await h.store.getUser('alice'))?.totpEnrolled).toBe(false)
  })

  it('the first valid code completes enrollment and yields a session with amr pwd+otp', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const first = (await login(h, 'alice', TEST_PASSWORD)).json()
    const secret = secretOf(first.otpauth_url)
    const r = await mfa(h, first.mfa_token, await codeAt(h, secret))
    expect(r.statusCode).toBe(200)
    const body = r.json()
    expect(body).toMatchObject({ status: 'ok', token_type: 'Bearer', expires_in: h.config.auth.sessionTtlSeconds })
    const user = await h.store.getUser('alice')
    expect(user?.totpEnrolled).toBe(true)
    expect(user?.totpSecretEnc).not.toContain(secret)
    expect(h.events.map((e) => e.action)).toEqual(expect.arrayContaining(['user-created', 'login', 'mfa-enroll', 'mfa-verify']))

    const me = await h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(body.access_token) })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toEqual({
      username: 'alice', roles: ['user'], amr: ['pwd', 'otp'],
      expires_at: new Date(h.clock.now() + h.config.auth.sessionTtlSeconds * 1000).toISOString(),
      password_change_required: false
    })
  })

  it('an enrolled user gets mfa_required, then a session for a valid code', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const enroll = (await login(h, 'alice', TEST_PASSWORD)).json()
    const secret = secretOf(enroll.otpauth_url)
    expect((await mfa(h, enroll.mfa_token, await codeAt(h, secret))).statusCode).toBe(200)
    h.clock.advance(30_000)

    const r = await login(h, 'alice', TEST_PASSWORD)
    expect(r.json()).toEqual({ status: 'mfa_required', mfa_token: expect.any(String) })
    const m = await mfa(h, r.json().mfa_token, await codeAt(h, secret))
    expect(m.statusCode).toBe(200)
    expect(m.json().status).toBe('ok')
  })

  it('a role without required MFA gets a session from the password alone (amr pwd)', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    const r = await login(h, 'bob', TEST_PASSWORD)
    expect(r.statusCode).toBe(200)
    expect(r.json()).toMatchObject({ status: 'ok', token_type: 'Bearer', expires_in: 3600 })
    const me = await h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(r.json().access_token) })
    expect(me.json().amr).toEqual(['pwd'])
  })

  it('browsers get the token as a __Host- cookie (HttpOnly, Secure, SameSite=Strict, Path=/) that authenticates', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    const r = await login(h, 'bob', TEST_PASSWORD)
    const cookie = String(r.headers['set-cookie'])
    expect(cookie).toMatch(/^__Host-gatehouse=[^;]+;/)
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(cookie).toContain(attr)
    expect(cookie).not.toMatch(/Domain=/i)
    const value = cookie.split(';')[0] as string
    const me = await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: `other=1; ${value}` } })
    expect(me.statusCode).toBe(200)
    expect(me.json().username).toBe('bob')
  })

  it('a session from before MFA became required for the role no longer authenticates', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    const token = (await login(h, 'bob', TEST_PASSWORD)).json().access_token
    await h.auth.userAdmin.setRole('bob', 'admin')
    expect((await h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) })).statusCode).toBe(401)
  })

  it('logout answers 204, clears the cookie, and the token is dead at once', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    const token = (await login(h, 'bob', TEST_PASSWORD)).json().access_token
    const out = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) })
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(/^__Host-gatehouse=; Max-Age=0/)
    const after = await h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) })
    expect(after.statusCode).toBe(401)
    expect(after.headers['www-authenticate']).toBe('Bearer')
    expect(h.events.some((e) => e.action === 'logout' && e.outcome === 'success' && e.userName === 'bob')).toBe(true)
  })

  it('/auth/me without credentials is 401 with WWW-Authenticate: Bearer', async () => {
    h = await createHarness()
    const r = await h.app.inject({ method: 'GET', url: '/auth/me' })
    expect(r.statusCode).toBe(401)
    expect(r.headers['www-authenticate']).toBe('Bearer')
    expect(r.json()).toEqual({ error: 'authentication required' })
  })

  it('a malformed login body is a 400, not a login attempt', async () => {
    h = await createHarness()
    const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice' } })
    expect(r.statusCode).toBe(400)
    expect(h.events).toEqual([])
  })

  it('an unknown or mistyped login field is a 400 GH_ERR_BAD_REQUEST naming it, and no login attempt', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const cases: Array<[unknown, string]> = [
      [{ username: 'alice', password: TEST_PASSWORD, remember: true }, 'remember: unknown field'],
      [{ username: 'alice', password: 12345678 }, 'password: must be string'],
      [{ username: 'alice' }, 'password: is required'],
      ['alice', 'body: must be object']
    ]
    for (const [payload, error] of cases) {
      const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })
      expect(r.statusCode).toBe(400)
      expect(r.json()).toEqual({ error })
    }
    const m = await h.app.inject({ method: 'POST', url: '/auth/mfa', payload: { mfa_token: 'x', code: '123456', trust: 1 } })
    expect(m.json()).toEqual({ error: 'trust: unknown field' })
    expect(h.events.filter((e) => e.action === 'login' || e.action === 'mfa-verify')).toEqual([])
  })

  it('the password is verified exactly as typed (no trimming or case folding)', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    expect((await login(h, 'bob', ` ${TEST_PASSWORD}`)).statusCode).toBe(401)
    expect((await login(h, 'bob', TEST_PASSWORD.toUpperCase())).statusCode).toBe(401)
    expect((await login(h, 'bob', TEST_PASSWORD)).statusCode).toBe(200)
  })
})
