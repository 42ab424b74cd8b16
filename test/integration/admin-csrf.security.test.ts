// Security: a page on another site cannot use the admin's `__Host-gatehouse` cookie to change
// anything. State-changing /admin and /auth requests need `Content-Type: application/json` (415),
// and cookie-authenticated ones must come from the gateway's own origin (403). Bearer requests carry
// no ambient credential and are not subject to the origin check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'

let gw: TestGateway
let token: string
const PASSWORD = 'violet-harbor-cinnamon-42'
const EVIL = 'https://evil.example'

beforeAll(async () => {
  gw = await startTestGateway()
  await gw.gateway.auth.userAdmin.addUser('root-admin', 'admin', PASSWORD)
  await gw.gateway.auth.userAdmin.addUser('victim', 'user', PASSWORD)
  token = (await loginWithMfa(gw, 'root-admin', PASSWORD)).token
})
afterAll(async () => { await gw.close() })

const cookie = () => ({ cookie: `__Host-gatehouse=${token}` })
const own = () => new URL(gw.url).host
const victimStatus = async () => (await gw.gateway.auth.userAdmin.getUser('victim')).status

describe('cross-site requests riding on the session cookie', () => {
  for (const action of ['disable', 'enable', 'reset-mfa']) {
    it(`a cross-site text/plain POST /admin/users/victim/${action} with the cookie is refused (415) and changes nothing`, async () => {
      const before = await gw.gateway.auth.userAdmin.getUser('victim')
      const res = await call(gw, 'POST', `/admin/users/victim/${action}`, {
        anonymous: true, headers: { ...cookie(), 'content-type': 'text/plain', origin: EVIL, 'sec-fetch-site': 'cross-site' }, body: ''
      })
      expect(res.status).toBe(415)
      expect(res.json).toEqual({ error: 'unsupported content type' })
      expect(await gw.gateway.auth.userAdmin.getUser('victim')).toEqual(before)
    })
  }

  it('with application/json but a foreign Origin, the cookie request is 403 and changes nothing', async () => {
    const res = await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', origin: EVIL } })
    expect(res.status).toBe(403)
    expect(res.json).toEqual({ error: 'cross-site request refused' })
    expect(await victimStatus()).toBe('active')
  })

  it('Origin: null and a cross-site Sec-Fetch-Site without Origin are refused too', async () => {
    const nul = await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', origin: 'null' } })
    expect(nul.status).toBe(403)
    const site = await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', 'sec-fetch-site': 'same-site' } })
    expect(site.status).toBe(403)
    expect(await victimStatus()).toBe('active')
  })

  it('the same request from the gateway\'s own origin goes through', async () => {
    const res = await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', origin: `https://${own()}` } })
    expect(res.status).toBe(200)
    expect(await victimStatus()).toBe('disabled')
    const back = await call(gw, 'POST', '/admin/users/victim/enable', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' } })
    expect(back.status).toBe(200)
    expect(await victimStatus()).toBe('active')
  })

  it('a cross-site cookie logout is refused; reads (GET) are not state changes', async () => {
    const out = await call(gw, 'POST', '/auth/logout', { anonymous: true, headers: { ...cookie(), 'content-type': 'application/json', origin: EVIL } })
    expect(out.status).toBe(403)
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: cookie() })
    expect(me.status).toBe(200)
  })
})

describe('the content type is required whatever the credential', () => {
  it('a Bearer POST without application/json is 415, even with an empty body', async () => {
    const bearer = { authorization: `Bearer ${token}` }
    for (const headers of [bearer, { ...bearer, 'content-type': 'text/plain' }, { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }]) {
      const res = await call(gw, 'POST', '/admin/users/victim/disable', { anonymous: true, headers })
      expect(res.status).toBe(415)
    }
    const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ username: 'victim', password: PASSWORD }) })
    expect(login.status).toBe(415)
    expect(await victimStatus()).toBe('active')
  })

  it('a Bearer request is not subject to the origin check', async () => {
    const res = await call(gw, 'POST', '/admin/users/victim/unlock', { anonymous: true, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8', origin: EVIL } })
    expect(res.status).toBe(200)
  })

  it('refusals are audited with their reason', async () => {
    const { readFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    await gw.gateway.audit.flush()
    const lines = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: { reason?: string }, http?: { response?: { status_code?: number } } })
    expect(lines.some((l) => l.event.reason === 'csrf:origin')).toBe(true)
    expect(lines.some((l) => l.event.reason === 'csrf:media-type')).toBe(true)
  })
})
