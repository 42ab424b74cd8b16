// Fault: the PostgreSQL server behind `store.url` restarts while Gatehouse runs. During the outage a
// request that needs the store (a credential to check) fails closed with 503 and reaches no
// upstream; once the server is back the same credentials work again without restarting Gatehouse,
// and no key or session was lost. The server is a private one the test owns, never the shared one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'
import { eventually } from '../helpers/eventually.js'
import { privatePostgresMissing, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-servers.js'

const missing = privatePostgresMissing()
// in CI a missing server binary is a failure, as for the other server-backed suites
if (missing && process.env.CI === 'true') throw new Error(`a private PostgreSQL is required in CI: ${missing}`)
if (missing) console.warn(`[skip] private PostgreSQL: ${missing}`)

describe.skipIf(missing !== null)('PostgreSQL restarted under a running gateway', () => {
  let pg: PrivatePostgres
  let gw: TestGateway
  beforeAll(async () => {
    pg = await startPrivatePostgres()
    gw = await startTestGateway({ store: { url: pg.url } })
  }, 30_000)
  afterAll(async () => {
    await gw?.close()
    await pg?.destroy()
  })

  it('fails closed with 503 while the server is down, and recovers with every key and session intact', async () => {
    const key = await gw.createKey('user', 'pg-restart')
    await gw.gateway.auth.userAdmin.addUser('dora', 'user', 'violet-harbor-cinnamon-42')
    const session = await loginWithMfa(gw, 'dora', 'violet-harbor-cinnamon-42')
    const asKey = { authorization: `Bearer ${key}` }
    const asSession = { authorization: `Bearer ${session.token}` }
    expect((await call(gw, 'GET', '/api/tags', { headers: asKey })).status).toBe(200)
    expect((await call(gw, 'GET', '/api/tags', { headers: asSession })).status).toBe(200)

    await pg.stop()
    const upstreamBefore = gw.fake.received.length
    for (const headers of [asKey, asSession]) {
      const r = await call(gw, 'GET', '/api/tags', { headers })
      expect(r.status).toBe(503)
      expect(r.json).toMatchObject({ error: expect.any(String) })
      expect(r.headers['x-request-id']).toBeTruthy()
    }
    const chat = await call(gw, 'POST', '/api/chat', { headers: asKey, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(chat.status).toBe(503)
    expect(gw.fake.received.length).toBe(upstreamBefore)
    const ready = await call(gw, 'GET', '/readyz', { anonymous: true })
    expect(ready).toMatchObject({ status: 503, json: { failing: ['store'] } })

    await pg.start()
    await eventually(async () => {
      expect((await call(gw, 'GET', '/api/tags', { headers: asKey })).status).toBe(200)
    }, { timeoutMs: 10_000, intervalMs: 100 })
    expect((await call(gw, 'GET', '/api/tags', { headers: asSession })).status).toBe(200)
    expect((await call(gw, 'GET', '/readyz', { anonymous: true })).status).toBe(200)
    const done = await call(gw, 'POST', '/api/chat', { headers: asKey, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(done.status).toBe(200)
  }, 30_000)
})
