// POST /auth/password and one-time passwords: a generated or temporary password opens a session that
// can do nothing but choose a new password (403 "password change required" everywhere else, the
// proxied API and /admin included); a change needs the current password and, once enrolled, a TOTP
// code; it ends every other session and is audited as password-changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditLine } from '../helpers/audit-lines.js'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'
import { totpCodeAt } from '../helpers/totp.js'
import { eventually } from '../helpers/eventually.js'

let gw: TestGateway
const PASSWORD = 'violet-harbor-cinnamon-42'
const NEW_PASSWORD = 'amber-quarry-lantern-77'
const json = { 'content-type': 'application/json' }
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
type Body = Record<string, unknown>

beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(gw, 'POST', path, { anonymous: true, headers: { ...json, ...headers }, body: JSON.stringify(body) })

async function oneTimeLogin (username: string, password: string): Promise<string> {
  const l = await post('/auth/login', { username, password })
  expect(l.status).toBe(200)
  expect(l.json).toMatchObject({ status: 'ok', password_change_required: true })
  return (l.json as { access_token: string }).access_token
}

const auditLines = (): AuditLine[] =>
  readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)

describe('a one-time password', () => {
  it('a generated password opens a session that reaches only /auth/password, /auth/me and /auth/logout', async () => {
    const { generatedPassword } = await gw.gateway.auth.userAdmin.addUser('otp-user', 'user')
    const token = await oneTimeLogin('otp-user', generatedPassword as string)
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(token) })
    expect(me.status).toBe(200)
    expect(me.json).toMatchObject({ username: 'otp-user', password_change_required: true })
    for (const [method, path] of [['GET', '/api/tags'], ['GET', '/v1/models'], ['GET', '/admin/users'], ['GET', '/admin/audit']]) {
      const r = await call(gw, method as string, path as string, { anonymous: true, headers: bearer(token) })
      expect(r.status, path).toBe(403)
      expect(r.text, path).toContain('password change required')
    }
    expect(gw.fake.received.length).toBe(0)
  })

  it('choosing a new password ends the one-time session and leads to MFA enrollment, then everything opens', async () => {
    const { generatedPassword } = await gw.gateway.auth.userAdmin.addUser('boss', 'admin')
    const token = await oneTimeLogin('boss', generatedPassword as string)
    const r = await post('/auth/password', { current_password: generatedPassword, new_password: NEW_PASSWORD }, bearer(token))
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ status: 'mfa_enrollment_required' })
    expect(String(r.headers['set-cookie'])).toMatch(/Max-Age=0/i)
    expect((await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(token) })).status).toBe(401)
    expect((await gw.gateway.auth.userAdmin.getUser('boss')).passwordMustChange).toBe(false)
    // the one-time password is dead, the new one works
    expect((await post('/auth/login', { username: 'boss', password: generatedPassword })).status).toBe(401)
    const b = r.json as { mfa_token: string, otpauth_url: string }
    const secret = new URL(b.otpauth_url).searchParams.get('secret') as string
    const m = await post('/auth/mfa', { mfa_token: b.mfa_token, code: await totpCodeAt(secret, Date.now()) })
    expect(m.status).toBe(200)
    const admin = (m.json as { access_token: string }).access_token
    expect((await call(gw, 'GET', '/admin/users', { anonymous: true, headers: bearer(admin) })).status).toBe(200)
    await eventually(() => {
      const ev = auditLines().find((e) => e.event.action === 'password-changed' && e.event.outcome === 'success')
      expect(ev).toBeDefined()
    })
    expect(readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8')).not.toContain(NEW_PASSWORD)
  })

  it('a temporary password set through the admin API is one-time too; a plain one is not', async () => {
    await gw.gateway.auth.userAdmin.addUser('root2', 'admin', PASSWORD)
    const admin = (await loginWithMfa(gw, 'root2', PASSWORD)).token
    const add = await post('/admin/users', { username: 'temp1', role: 'user', password: PASSWORD, temporary: true }, bearer(admin))
    expect(add.status).toBe(201)
    expect((add.json as { user: Body }).user).toMatchObject({ passwordMustChange: true })
    await oneTimeLogin('temp1', PASSWORD)
    const plain = await post('/admin/users/temp1/password', { password: NEW_PASSWORD }, bearer(admin))
    expect(plain.status).toBe(200)
    expect((plain.json as { user: Body }).user).toMatchObject({ passwordMustChange: false })
    const temp = await post('/admin/users/temp1/password', { password: PASSWORD, temporary: true }, bearer(admin))
    expect((temp.json as { user: Body }).user).toMatchObject({ passwordMustChange: true })
    const bad = await post('/admin/users/temp1/password', { password: PASSWORD, temporary: 'yes' }, bearer(admin))
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('temporary')
  })
})

describe('POST /auth/password from an enrolled session', () => {
  it('needs the current password and a fresh TOTP code, ends the other sessions, and keeps the caller signed in', async () => {
    await gw.gateway.auth.userAdmin.addUser('carol', 'user', PASSWORD)
    // steps -1 and 0 for two sessions, so step +1 is still fresh for the change
    const first = await loginWithMfa(gw, 'carol', PASSWORD, undefined, -1)
    const second = await loginWithMfa(gw, 'carol', PASSWORD, first.secret, 0)
    const wrong = await post('/auth/password', { current_password: 'not-it-at-all-9', new_password: NEW_PASSWORD,
      code: await totpCodeAt(first.secret, Date.now() - 30_000) }, bearer(first.token))
    expect(wrong.status).toBe(403)
    expect(wrong.json).toEqual({ error: 'current password or code is wrong' })
    const noCode = await post('/auth/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, bearer(first.token))
    expect(noCode.status).toBe(403)
    // two failures so far: a third would lock the account (maxFailedAttempts 3)
    const ok = await post('/auth/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD, code: await totpCodeAt(first.secret, Date.now() + 30_000) }, bearer(first.token))
    expect(ok.status, ok.text).toBe(200)
    expect(ok.json).toMatchObject({ status: 'ok', token_type: 'Bearer' })
    expect(String(ok.headers['set-cookie'])).toContain('__Host-gatehouse=')
    const fresh = (ok.json as { access_token: string }).access_token
    expect((await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(second.token) })).status).toBe(401)
    expect((await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(first.token) })).status).toBe(401)
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(fresh) })
    expect(me.json).toMatchObject({ username: 'carol', amr: ['pwd', 'otp'], password_change_required: false })
    expect((await post('/auth/login', { username: 'carol', password: NEW_PASSWORD })).json).toMatchObject({ status: 'mfa_required' })
  })

  it('the body is checked by schema: an unknown field is a 400 naming it; API keys are refused', async () => {
    await gw.gateway.auth.userAdmin.addUser('dan', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'dan', PASSWORD)
    const r = await post('/auth/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, extra: 1 }, bearer(s.token))
    expect(r.status).toBe(400)
    expect(r.text).toContain('extra')
    const k = await post('/auth/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, gw.auth)
    expect(k.status).toBe(403)
    expect(k.json).toMatchObject({ error: expect.stringContaining('sign in') })
  })
})

describe('a cookie session changing its password from another origin', () => {
  it('is refused by the CSRF guard before anything is checked', async () => {
    await gw.gateway.auth.userAdmin.addUser('erin', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'erin', PASSWORD)
    const r = await call(gw, 'POST', '/auth/password', {
      anonymous: true,
      headers: { ...json, cookie: `__Host-gatehouse=${s.token}`, origin: 'https://evil.example' },
      body: JSON.stringify({ current_password: PASSWORD, new_password: NEW_PASSWORD })
    })
    expect(r.status).toBe(403)
    expect((await post('/auth/login', { username: 'erin', password: PASSWORD })).status).toBe(200)
  })
})

describe('own sessions and signing out everywhere', () => {
  it('GET /auth/sessions lists the caller\'s live sessions; POST /auth/logout-everywhere ends them all', async () => {
    await gw.gateway.auth.userAdmin.addUser('fay', 'user', PASSWORD)
    const a = await loginWithMfa(gw, 'fay', PASSWORD, undefined, -1)
    const b = await loginWithMfa(gw, 'fay', PASSWORD, a.secret, 0)
    const list = await call(gw, 'GET', '/auth/sessions', { anonymous: true, headers: bearer(a.token) })
    expect(list.status).toBe(200)
    const sessions = (list.json as { sessions: Array<{ current: boolean }> }).sessions
    expect(sessions).toHaveLength(2)
    expect(sessions.filter((x) => x.current)).toHaveLength(1)
    expect((await call(gw, 'GET', '/auth/sessions', { anonymous: true })).status).toBe(401)
    expect((await call(gw, 'GET', '/auth/sessions')).status).toBe(403) // API keys have no sessions: 'sign in'
    const out = await post('/auth/logout-everywhere', {}, bearer(a.token))
    expect(out.status).toBe(204)
    for (const t of [a.token, b.token]) expect((await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(t) })).status).toBe(401)
  })
})


describe('guessing TOTP codes through POST /auth/password', () => {
  it('a parallel burst evaluates at most maxFailedAttempts codes, then the account is locked', async () => {
    await gw.gateway.auth.userAdmin.addUser('guess-target', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'guess-target', PASSWORD)
    const tries = Array.from({ length: 12 }, (_, i) =>
      post('/auth/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, code: String(100000 + i) }, bearer(s.token)))
    const replies = await Promise.all(tries)
    expect(replies.every((r) => r.status === 403)).toBe(true)
    const failures = auditLines().filter((e) => e.event.action === 'password-changed' && e.user?.name === 'guess-target')
    // codes looked at: at most the account's allowance (3); the rest were refused as locked unseen
    expect(failures.filter((e) => e.event.reason === 'bad_code').length).toBeLessThanOrEqual(3)
    expect(failures.filter((e) => e.event.reason === 'locked').length).toBeGreaterThanOrEqual(9)
    expect((await gw.gateway.store.getUser('guess-target'))?.lockedUntil).not.toBeNull()
  })
})
