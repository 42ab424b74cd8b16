// A refusal says why in terms the caller already knows: the permission it lacks, or that the model it
// named is not allowed for its role — never the role's list of models or anything about other users.
// An API key on /admin is a 403 that says to sign in, not a 401 that reads as a bad key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'

let gw: TestGateway
const keys: Record<string, string> = {}
const PASSWORD = 'violet-harbor-cinnamon-42'

beforeAll(async () => {
  gw = await startTestGateway({
    rbac: {
      roles: {
        admin: { permissions: ['*'], models: ['*'] },
        user: { permissions: ['inference', 'models:read'], models: ['*'] },
        monitor: { permissions: ['status:read'], models: [] },
        analyst: { permissions: ['inference', 'models:read'], models: ['llama3.2', 'qwen2.5:*'] }
      }
    }
  })
  for (const role of ['user', 'monitor', 'analyst']) keys[role] = await gw.createKey(role)
})
afterAll(async () => { await gw.close() })

const as = (role: string) => ({ authorization: `Bearer ${keys[role] as string}` })

describe('a 403 names what is missing', () => {
  it('a missing permission is named', async () => {
    const r = await call(gw, 'POST', '/api/pull', { anonymous: true, headers: as('user'), body: '{"model":"llama3.2"}' })
    expect(r.status).toBe(403)
    expect(r.json).toEqual({ error: 'permission "models:manage" required' })
    const m = await call(gw, 'GET', '/metrics', { anonymous: true, headers: as('monitor') })
    expect(m.status).toBe(403)
    expect(m.json).toEqual({ error: 'permission "metrics:read" required' })
  })
  it('a refused model is named (canonical form), without the role\'s list', async () => {
    const r = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('analyst'), body: '{"model":"secret-model","messages":[]}' })
    expect(r.status).toBe(403)
    expect(r.json).toEqual({ error: 'model "secret-model:latest" is not allowed for your role' })
    expect(r.text).not.toContain('llama3.2')
    expect(r.text).not.toContain('qwen')
  })
})

describe('/admin refusals', () => {
  it('an API key (even an admin one, even a wrong one) is 403 "sign in", without WWW-Authenticate', async () => {
    for (const key of [gw.adminKey, `ghk_${'A'.repeat(43)}`]) {
      const r = await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${key}` } })
      expect(r.status).toBe(403)
      expect(r.json).toEqual({ error: 'API keys cannot use the admin API; sign in' })
      expect(r.headers['www-authenticate']).toBeUndefined()
    }
  })
  it('a session without the admin permission is told which permission', async () => {
    await gw.gateway.auth.userAdmin.addUser('plain', 'user', PASSWORD)
    const s = await loginWithMfa(gw, 'plain', PASSWORD)
    const r = await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${s.token}` } })
    expect(r.status).toBe(403)
    expect(r.json).toEqual({ error: 'permission "admin" required' })
  })
  it('an admin session without a second factor is told to sign in with one', async () => {
    const gw2 = await startTestGateway({ auth: { mfa: { requiredForRoles: ['user'] } } })
    try {
      await gw2.gateway.auth.userAdmin.addUser('pwd-admin', 'admin', PASSWORD)
      const s = await loginWithMfa(gw2, 'pwd-admin', PASSWORD)
      const r = await call(gw2, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${s.token}` } })
      expect(r.status).toBe(403)
      expect(r.json).toEqual({ error: 'the admin API needs a session signed in with a one-time code' })
    } finally {
      await gw2.close()
    }
  })
})
