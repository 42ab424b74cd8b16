// The admin API: only an MFA session with the admin permission gets in (API keys never), and its
// operations are the CLI's (same rules, same audit events), taking effect on the next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditLine } from '../helpers/audit-lines.js'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'

let gw: TestGateway
let admin: string
const PASSWORD = 'violet-harbor-cinnamon-42'
const json = { 'content-type': 'application/json' }

beforeAll(async () => {
  gw = await startTestGateway()
  await gw.gateway.auth.userAdmin.addUser('root-admin', 'admin', PASSWORD)
  admin = (await loginWithMfa(gw, 'root-admin', PASSWORD)).token
})
afterAll(async () => { await gw.close() })

const asAdmin = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${admin}`, ...extra })

describe('who may use /admin', () => {
  it('an admin API key is refused (403, sign in) even with every permission', async () => {
    const res = await call(gw, 'GET', '/admin/users')
    expect(res.status).toBe(403)
  })
  it('no credential is 401 with WWW-Authenticate', async () => {
    const res = await call(gw, 'GET', '/admin/users', { anonymous: true })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
  })
  it('a non-admin MFA session is 403', async () => {
    await gw.gateway.auth.userAdmin.addUser('plain', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'plain', PASSWORD)
    expect((await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${s.token}` } })).status).toBe(403)
  })
  it('an admin MFA session lists users', async () => {
    const res = await call(gw, 'GET', '/admin/users', { anonymous: true, headers: asAdmin() })
    expect(res.status).toBe(200)
    expect((res.json as { users: Array<{ username: string }> }).users.map((u) => u.username)).toEqual(expect.arrayContaining(['root-admin', 'plain']))
  })
})

describe('MFA is required for /admin whatever the policy says for the admin role', () => {
  it('an admin session without a TOTP step is 403, even when MFA is required only for another role', async () => {
    const gw2 = await startTestGateway({ auth: { mfa: { requiredForRoles: ['user'] } } })
    try {
      await gw2.gateway.auth.userAdmin.addUser('pwd-admin', 'admin', PASSWORD)
      const s = await loginWithMfa(gw2, 'pwd-admin', PASSWORD)
      expect(s.secret).toBe('') // password only: the login answered "ok" without a TOTP step
      const headers = { authorization: `Bearer ${s.token}` }
      const me = await call(gw2, 'GET', '/auth/me', { anonymous: true, headers })
      expect(me.json).toMatchObject({ username: 'pwd-admin', amr: ['pwd'] })
      const res = await call(gw2, 'GET', '/admin/users', { anonymous: true, headers })
      expect(res.status).toBe(403)
    } finally {
      await gw2.close()
    }
  })
})

describe('request bodies are checked against their schema', () => {
  const post = async (url: string, body: unknown, headers: Record<string, string> = asAdmin(json)) => {
    const r = await call(gw, 'POST', url, { anonymous: true, headers, body: JSON.stringify(body) })
    return { status: r.status, body: r.json as { error: string } }
  }
  it('a misspelt field is a 400 naming it, not a key that never expires', async () => {
    expect(await post('/admin/keys', { name: 'typo', role: 'user', expiresIn: '30d' })).toEqual({ status: 400, body: { error: 'expiresIn: unknown field' } })
    const keys = await call(gw, 'GET', '/admin/keys', { anonymous: true, headers: asAdmin() })
    expect(keys.text).not.toContain('"typo"')
  })
  it('a missing, empty or mistyped field is a 400 naming it', async () => {
    expect(await post('/admin/users', { username: 'nobody-yet' })).toEqual({ status: 400, body: { error: 'role: is required' } })
    expect(await post('/admin/users', { username: '', role: 'user' })).toEqual({ status: 400, body: { error: 'username: must NOT have fewer than 1 characters' } })
    expect(await post('/admin/users/plain/role', { role: 7 })).toEqual({ status: 400, body: { error: 'role: must be string' } })
    expect(await post('/admin/keys', ['name', 'role'])).toEqual({ status: 400, body: { error: 'body: must be object' } })
    expect((await gw.gateway.auth.userAdmin.getUser('plain')).roles).toEqual(['user'])
  })
  it('a caller without access gets 401/403 before its body is looked at', async () => {
    expect((await post('/admin/keys', { bogus: 1 }, json)).status).toBe(401)
    expect((await post('/admin/keys', { bogus: 1 }, { ...json, authorization: 'Bearer nope' })).status).toBe(401)
  })
})

describe('operations', () => {
  it('creates a user with a one-time password, refuses unknown roles and weak passwords', async () => {
    const res = await call(gw, 'POST', '/admin/users', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ username: 'Newbie', role: 'user' }) })
    expect(res.status).toBe(201)
    expect(res.json).toMatchObject({ user: { username: 'newbie', roles: ['user'] } })
    expect(typeof (res.json as { one_time_password: string }).one_time_password).toBe('string')
    expect((await call(gw, 'POST', '/admin/users', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ username: 'x1', role: 'wizard' }) })).status).toBe(400)
    expect((await call(gw, 'POST', '/admin/users', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ username: 'x2', role: 'user', password: 'password1234' }) })).status).toBe(400)
  })
  it('disabling a user ends its session on the very next request; sessions can be listed and revoked', async () => {
    await gw.gateway.auth.userAdmin.addUser('victim', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'victim', PASSWORD)
    const bearer = { authorization: `Bearer ${s.token}` }
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer })).status).toBe(200)
    const sessions = await call(gw, 'GET', '/admin/users/victim/sessions', { anonymous: true, headers: asAdmin() })
    expect((sessions.json as { sessions: unknown[] }).sessions).toHaveLength(1)
    expect((await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers: asAdmin(json) })).status).toBe(200)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer })).status).toBe(401)
    expect((await call(gw, 'POST', '/admin/users/victim/enable', { anonymous: true, headers: asAdmin(json) })).status).toBe(200)
    // a fresh session, revoked by id
    const s2 = await loginWithMfa(gw, 'victim', PASSWORD, s.secret, 1)
    const list = await call(gw, 'GET', '/admin/users/victim/sessions', { anonymous: true, headers: asAdmin() })
    const live = (list.json as { sessions: Array<{ id: string, revokedAt: number | null }> }).sessions.filter((x) => x.revokedAt === null)
    expect(live).toHaveLength(1)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${s2.token}` } })).status).toBe(200)
    expect((await call(gw, 'DELETE', `/admin/sessions/${(live[0] as { id: string }).id}`, { anonymous: true, headers: asAdmin(json) })).status).toBe(204)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${s2.token}` } })).status).toBe(401)
  })
  it('set role, reset MFA and unlock', async () => {
    const r = await call(gw, 'POST', '/admin/users/newbie/role', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ role: 'monitor' }) })
    expect(r.json).toMatchObject({ user: { roles: ['monitor'] } })
    expect((await call(gw, 'POST', '/admin/users/newbie/reset-mfa', { anonymous: true, headers: asAdmin(json) })).status).toBe(200)
    expect((await call(gw, 'POST', '/admin/users/newbie/unlock', { anonymous: true, headers: asAdmin(json) })).status).toBe(200)
    expect((await call(gw, 'POST', '/admin/users/nobody/unlock', { anonymous: true, headers: asAdmin(json) })).status).toBe(404)
  })
  it('creates, lists and revokes keys; a revoked key fails on the next request', async () => {
    const c = await call(gw, 'POST', '/admin/keys', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ name: 'api-server', role: 'user', expires_in: '30d' }) })
    expect(c.status).toBe(201)
    const { key, record } = c.json as { key: string, record: { id: string } }
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    const list = await call(gw, 'GET', '/admin/keys', { anonymous: true, headers: asAdmin() })
    expect(list.text).not.toContain(key)
    expect((await call(gw, 'POST', `/admin/keys/${record.id}/revoke`, { anonymous: true, headers: asAdmin(json) })).status).toBe(200)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status).toBe(401)
    expect((await call(gw, 'POST', '/admin/keys', { anonymous: true, headers: asAdmin(json), body: JSON.stringify({ name: 'k', role: 'user', expires_in: 'later' }) })).status).toBe(400)
  })
  it('the admin API emits the same audit events as the CLI, naming the acting admin', async () => {
    const events = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
    const created = events.find((e) => e.event.action === 'user-created' && e.user?.target?.name === 'newbie')
    expect(created?.user?.name).toBe('root-admin')
    for (const a of ['user-disabled', 'user-enabled', 'role-changed', 'mfa-reset', 'account-unlocked', 'key-created', 'key-revoked']) {
      expect(events.some((e) => e.event.action === a), a).toBe(true)
    }
    const revoked = events.find((e) => e.event.action === 'logout' && e.event.reason === 'revoked-by-admin')
    expect(revoked?.user).toMatchObject({ name: 'root-admin', target: { name: 'victim' } })
  })
})
