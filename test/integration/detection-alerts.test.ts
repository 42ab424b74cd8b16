// Intrusion detection end to end: real requests through the gateway raise `intrusion-detected`
// alert events (event.kind alert) in the audit file and count in gatehouse_detections_total.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'

let gw: TestGateway
beforeAll(async () => {
  gw = await startTestGateway({
    detection: { passwordSpraying: { distinctUsers: 3 }, refusalBurst: { refusals: 3 } },
    auth: { mfa: { requiredForRoles: ['admin'] } }
  })
})
afterAll(async () => { await gw?.close() })

interface Line { event: { kind: string, action: string, reason?: string }, source?: { ip: string }, user?: { name?: string },
  gatehouse: { detection?: { count: number, window_seconds: number }, key?: { id?: string, name?: string } } }
const alerts = () => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as Line).filter((e) => e.event.kind === 'alert')
const metric = async (rule: string) => {
  const m = new RegExp(`^gatehouse_detections_total\\{rule="${rule}"\\} (\\d+)$`, 'm').exec(await gw.gateway.metrics.registry.metrics())
  return Number(m?.[1])
}
const login = (username: string, password: string) => call(gw, 'POST', '/auth/login', {
  anonymous: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password })
})

describe('intrusion detection through the gateway', () => {
  it('password spraying from one source becomes one alert event and one count', async () => {
    expect(await metric('password_spraying')).toBe(0)
    for (const u of ['amy', 'ben', 'cat', 'dan', 'eve']) expect((await login(u, 'wrong-password-1234')).status).toBe(401)
    const spray = await eventually(() => {
      const a = alerts().filter((e) => e.event.reason === 'password_spraying')
      expect(a).toHaveLength(1)
      return a[0]
    })
    expect(spray).toMatchObject({ event: { action: 'intrusion-detected', kind: 'alert' }, source: { ip: '127.0.0.1' },
      gatehouse: { detection: { count: 3, window_seconds: 600 } } })
    expect(await metric('password_spraying')).toBe(1)
  })

  it('a burst of 403s to one API key is a refusal-burst alert naming the key', async () => {
    const key = await gw.createKey('user', 'prober')
    for (let i = 0; i < 4; i++) {
      const r = await call(gw, 'POST', '/api/pull', { anonymous: true, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2' }) })
      expect(r.status).toBe(403)
    }
    await eventually(() => expect(alerts().filter((e) => e.event.reason === 'refusal_burst').map((e) => e.user?.name)).toEqual(['prober']))
    expect(await metric('refusal_burst')).toBe(1)
  })

  it('a revoked key presented again is an alert at once, naming the key', async () => {
    const created = await gw.gateway.auth.userAdmin.createKey({ name: 'old-ci', role: 'user', expiresIn: null })
    await gw.gateway.auth.userAdmin.revokeKey(created.record.id)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${created.key}` } })).status).toBe(401)
    const alert = await eventually(() => {
      const a = alerts().filter((e) => e.event.reason === 'revoked_key')
      expect(a).toHaveLength(1)
      return a[0]
    })
    expect(alert).toMatchObject({ source: { ip: '127.0.0.1' }, gatehouse: { key: { id: created.record.id, name: 'old-ci' } } })
    expect(await metric('revoked_key')).toBe(1)
  })
})
