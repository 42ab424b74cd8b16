// Single sign-on against a real OpenID Provider (oidc-provider, started here on 127.0.0.1; see
// test/helpers/oidc-idp.ts for how it logs users in without a browser).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-idp.js'
import { signIn } from '../helpers/oidc-flow.js'
import { readAuditLines } from '../helpers/audit-lines.js'

const REDIRECT = 'https://127.0.0.1:8443/auth/oidc/callback'

let idp: TestIdp
let gw: TestGateway

beforeAll(async () => {
  idp = await startTestIdp({
    redirectUri: REDIRECT,
    users: {
      alice: { groups: ['ollama-users', 'unrelated'], amr: ['pwd'] },
      root: { groups: ['ollama-admins'], amr: ['pwd', 'mfa'] }
    }
  })
  gw = await startTestGateway({
    auth: {
      mfa: { requiredForRoles: ['admin'] },
      oidc: {
        enabled: true, issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT,
        roleMapping: { 'ollama-admins': 'admin', 'ollama-users': 'user' }
      }
    }
  }, { env: { GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret } })
})

afterAll(async () => {
  await gw?.close()
  await idp?.stop()
})

describe('single sign-on: the authorization code flow', () => {
  it('a user of a mapped group signs in and gets a session with the mapped role, then lands on /console/', async () => {
    const res = await signIn(gw, 'alice')
    expect(res.status, res.text).toBe(303)
    expect(res.location).toBe('/console/')
    expect(res.sessionCookie).not.toBeNull()
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { cookie: res.sessionCookie as string } })
    expect(me.json).toMatchObject({ username: 'alice', roles: ['user'], amr: ['fed'] })
    const user = await gw.gateway.store.getUser('alice')
    expect(user).toMatchObject({ source: 'oidc', passwordHash: '', roles: ['user'] })
  })
})
