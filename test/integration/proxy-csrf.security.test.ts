// Security: a page of another origin (a sibling subdomain is same-site, so SameSite=Strict still
// sends the cookie) cannot use an admin's `__Host-gatehouse` cookie on the proxied Ollama API: a
// simple `text/plain` POST to /api/pull, /api/create or /api/copy needs no CORS preflight. A
// state-changing proxied request that rides on the cookie must come from the gateway's own origin;
// Bearer requests carry no ambient credential and reads are not state changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'

let gw: TestGateway
let token: string
const PASSWORD = 'violet-harbor-cinnamon-42'

beforeAll(async () => {
  gw = await startTestGateway()
  await gw.gateway.auth.userAdmin.addUser('root-admin', 'admin', PASSWORD)
  token = (await loginWithMfa(gw, 'root-admin', PASSWORD)).token
})
afterAll(async () => { await gw.close() })

const pulls = () => gw.fake.received.filter((r) => r.url === '/api/pull').length
const pull = (headers: Record<string, string>) =>
  call(gw, 'POST', '/api/pull', { anonymous: true, headers, body: JSON.stringify({ model: 'llama3.2', stream: false }) })

describe('cross-origin requests riding on the session cookie, on the proxied API', () => {
  it('a cross-site text/plain POST /api/pull with the cookie is refused (403) and never reaches Ollama', async () => {
    const before = pulls()
    const res = await pull({ cookie: `__Host-gatehouse=${token}`, 'content-type': 'text/plain', origin: 'https://sub.example.internal' })
    expect(res.status).toBe(403)
    expect(res.json).toEqual({ error: 'cross-site request refused' })
    const nul = await pull({ cookie: `__Host-gatehouse=${token}`, 'content-type': 'text/plain', origin: 'null' })
    expect(nul.status).toBe(403)
    const site = await pull({ cookie: `__Host-gatehouse=${token}`, 'content-type': 'text/plain', 'sec-fetch-site': 'same-site' })
    expect(site.status).toBe(403)
    expect(pulls()).toBe(before)
  })

  it('the same request from the gateway\'s own origin, and with a Bearer token from anywhere, goes through', async () => {
    const own = await pull({ cookie: `__Host-gatehouse=${token}`, 'content-type': 'application/json', origin: `https://${new URL(gw.url).host}` })
    expect(own.status).toBe(200)
    const bearer = await pull({ authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: 'https://elsewhere.example' })
    expect(bearer.status).toBe(200)
  })

  it('a read with the cookie from another origin is not a state change and is answered', async () => {
    const res = await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { cookie: `__Host-gatehouse=${token}`, origin: 'https://elsewhere.example' } })
    expect(res.status).toBe(200)
  })
})
