// GET /admin/audit (the file sink's latest events, newest first, filtered, with the chain's state)
// and GET /admin/compliance (the checks of `compliance check` as JSON): admin MFA sessions only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'
import { eventually } from '../helpers/eventually.js'

let gw: TestGateway
let admin: Record<string, string>
const PASSWORD = 'violet-harbor-cinnamon-42'
type Ev = { event: { action: string, outcome: string }, user?: { name?: string, target?: { name?: string } }, '@timestamp': string }
type AuditReply = { file: string, events: Ev[], chain: { ok: boolean | null } }

beforeAll(async () => {
  gw = await startTestGateway()
  await gw.gateway.auth.userAdmin.addUser('auditor', 'admin', PASSWORD)
  admin = { authorization: `Bearer ${(await loginWithMfa(gw, 'auditor', PASSWORD)).token}` }
})
afterAll(async () => { await gw.close() })

const get = (path: string, headers = admin) => call(gw, 'GET', path, { anonymous: true, headers })

describe('GET /admin/audit', () => {
  it('lists the latest events newest first, and the chain verifies', async () => {
    await gw.gateway.auth.userAdmin.addUser('alice', 'user', PASSWORD)
    await gw.gateway.auth.userAdmin.disableUser('alice')
    const r = await eventually(async () => {
      const res = await get('/admin/audit?limit=1000')
      expect((res.json as AuditReply).events.some((e) => e.event.action === 'user-disabled')).toBe(true)
      return res
    })
    expect(r.status).toBe(200)
    const body = r.json as AuditReply
    const times = body.events.map((e) => e['@timestamp'])
    expect(times).toEqual([...times].sort().reverse())
    const created = body.events.findIndex((e) => e.event.action === 'user-created' && e.user?.target?.name === 'alice')
    const disabled = body.events.findIndex((e) => e.event.action === 'user-disabled')
    expect(disabled).toBeLessThan(created)
    expect(body.chain.ok).toBe(true)
  })

  it('filters by action, user and outcome, and honours limit', async () => {
    const byAction = (await get('/admin/audit?action=user-disabled')).json as AuditReply
    expect(byAction.events.length).toBeGreaterThan(0)
    expect(byAction.events.every((e) => e.event.action === 'user-disabled')).toBe(true)
    const byUser = (await get('/admin/audit?user=alice')).json as AuditReply
    expect(byUser.events.map((e) => e.event.action)).toEqual(['user-disabled', 'user-created'])
    await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'auditor', password: 'wrong-password-here' }) })
    const failures = await eventually(async () => {
      const f = (await get('/admin/audit?outcome=failure&action=login')).json as AuditReply
      expect(f.events.length).toBeGreaterThan(0)
      return f
    })
    expect(failures.events.every((e) => e.event.outcome === 'failure')).toBe(true)
    expect(((await get('/admin/audit?limit=2')).json as AuditReply).events).toHaveLength(2)
  })

  it('refuses bad filters by schema, naming the field', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'outcome=maybe', 'extra=1']) {
      const r = await get(`/admin/audit?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.text, q).toContain(q.split('=')[0] as string)
    }
  })

  it('says when the chain does not verify', async () => {
    appendFileSync(join(gw.dir, 'logs', 'audit.log'), '{"forged":true}\n')
    const r = (await get('/admin/audit')).json as AuditReply
    expect(r.chain.ok).toBe(false)
  })

  it('API keys and non-admins are refused', async () => {
    expect((await call(gw, 'GET', '/admin/audit')).status).toBe(403) // an API key: 'sign in'
    await gw.gateway.auth.userAdmin.addUser('plain', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'plain', PASSWORD)
    expect((await get('/admin/audit', { authorization: `Bearer ${s.token}` })).status).toBe(403)
    expect((await get('/admin/compliance', { authorization: `Bearer ${s.token}` })).status).toBe(403)
  })
})

describe('GET /admin/compliance', () => {
  it('answers the checks of `compliance check` as JSON', async () => {
    const r = await get('/admin/compliance')
    expect(r.status).toBe(200)
    const body = r.json as { checks: Array<{ id: string, verdict: string }> }
    expect(Array.isArray(body.checks)).toBe(true)
    expect(body.checks.length).toBeGreaterThan(5)
    for (const c of body.checks) expect(['pass', 'fail', 'warn', 'info']).toContain(c.verdict)
  })
})
