// Every decision becomes an audit event: refusals on /admin and /metrics too, not only
// on proxied routes — a password-only or non-admin session, an API key, no credential at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import type { AuditLine } from '../helpers/audit-lines.js'
import { loginWithMfa } from '../helpers/login.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

const denials = () => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as AuditLine).filter((e) => e.event.action === 'access-denied')

describe('refusals outside the proxy are audited', () => {
  it('/admin without a credential, with an API key, and with a non-admin session', async () => {
    await gw.gateway.auth.userAdmin.addUser('plain', 'user', 'violet-harbor-cinnamon-42')
    const s = await loginWithMfa(gw, 'plain', 'violet-harbor-cinnamon-42')
    const before = denials().length
    expect((await call(gw, 'GET', '/admin/users', { anonymous: true })).status).toBe(401)
    expect((await call(gw, 'GET', '/admin/users')).status).toBe(403) // the admin API key
    expect((await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${s.token}` } })).status).toBe(403)
    const added = denials().slice(before)
    expect(added.map((e) => [e.url?.path, e.http?.response?.status_code])).toEqual([['/admin/users', 401], ['/admin/users', 403], ['/admin/users', 403]])
    expect(added[1]).toMatchObject({ gatehouse: { decision: 'deny', reason: 'api_key_not_allowed' } })
    expect(added[2]).toMatchObject({ user: { name: 'plain' }, gatehouse: { decision: 'deny', reason: 'permission:admin' } })
  })
  it('/metrics without metrics:read', async () => {
    const key = await gw.createKey('user')
    expect((await call(gw, 'GET', '/metrics', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status).toBe(403)
    expect(denials().at(-1)).toMatchObject({ url: { path: '/metrics' }, gatehouse: { reason: 'permission:metrics:read', credential: 'api_key' } })
  })
  it('health checks are not audited', async () => {
    const before = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').split('\n').length
    await call(gw, 'GET', '/healthz', { anonymous: true })
    await call(gw, 'GET', '/readyz', { anonymous: true })
    expect(readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').split('\n').length).toBe(before)
  })
})
