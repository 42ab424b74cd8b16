// Attacks on single sign-on, against a real OpenID Provider (test/helpers/oidc-idp.ts): forged or
// replayed callbacks, ID tokens the IdP did not issue for us, IdP access tokens that must not pass,
// and throttling of failing callbacks. A misbehaving IdP is played by re-signing its ID token.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { SignJWT, UnsecuredJWT, exportSPKI } from 'jose'
import { createPublicKey, createSecretKey } from 'node:crypto'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { newSigningKey, publicJwk, signJwt, startTestIdp, type TestIdp } from '../helpers/oidc-idp.js'
import { authorizeAtIdp, callback, signIn, startSignIn } from '../helpers/oidc-flow.js'
import { eventually } from '../helpers/eventually.js'

const REDIRECT = 'https://127.0.0.1:8443/auth/oidc/callback'

interface Ev { event: { action: string, outcome: string, reason?: string, provider?: string }, user?: { name?: string } }

let idp: TestIdp
let gw: TestGateway

async function audited (reason: string): Promise<Ev> {
  return await eventually(() => {
    const events = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').split('\n').filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Ev)
    const found = events.find((e) => e.event.action === 'login' && e.event.outcome === 'failure' && e.event.reason === reason)
    if (found === undefined) throw new Error(`no login failure with reason ${reason} yet`)
    return found
  })
}

/** An access token as the IdP would issue it for `user`, signed with `key` (the IdP's by default). */
async function accessToken (claims: Record<string, unknown> = {}, key = idp.key): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  // amr mfa: every role here needs MFA (auth.mfa.requiredForRoles defaults to all), and a Bearer
  // token can have no local TOTP step, so only the IdP's MFA lets it in
  return signJwt({ iss: idp.issuer, aud: 'gatehouse', sub: 'api-user', preferred_username: 'api-user', groups: ['ollama-users'],
    amr: ['pwd', 'mfa'], iat: now, exp: now + 300, ...claims }, key)
}

const bearer = (token: string) => ({ anonymous: true, headers: { authorization: `Bearer ${token}` } })

beforeAll(async () => {
  idp = await startTestIdp({
    redirectUri: REDIRECT,
    users: { alice: { groups: ['ollama-users'], amr: ['pwd'] }, mallory: { groups: ['ollama-users'], amr: ['pwd'] } }
  })
  gw = await startTestGateway({
    auth: {
      // high enough that the attacks below are not cut short by the throttle; the throttle has its own gateway
      lockout: { maxFailedAttempts: 50, perIpMaxFailures: 200 },
      unauthenticated: { perIpMaxPerMinute: 1000 },
      oidc: {
        enabled: true, issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT,
        roleMapping: { 'ollama-users': 'user', 'ollama-admins': 'admin' },
        acceptAccessTokens: { enabled: true, audience: 'gatehouse' }
      }
    }
  }, { env: { GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret } })
})

afterAll(async () => {
  await gw?.close()
  await idp?.stop()
})

beforeEach(() => {
  idp.tamperIdToken = null
  idp.jwksOverride = null
})

describe('the callback: state, code and browser binding', () => {
  it('a state that is not the one in the browser cookie is refused', async () => {
    const started = await startSignIn(gw)
    const back = await authorizeAtIdp(started.authUrl, 'alice')
    back.searchParams.set('state', 'forged-state')
    const res = await callback(gw, back, started.stateCookie)
    expect(res.status).toBe(401)
    expect(res.sessionCookie).toBeNull()
    await audited('state_mismatch')
  })

  it('a callback without the browser state cookie is refused (login CSRF)', async () => {
    const started = await startSignIn(gw)
    const back = await authorizeAtIdp(started.authUrl, 'alice')
    const res = await callback(gw, back, null)
    expect(res.status).toBe(401)
    await audited('state_missing')
  })

  it('a state cookie from another browser session (forged or altered) is refused', async () => {
    const started = await startSignIn(gw)
    const back = await authorizeAtIdp(started.authUrl, 'alice')
    const value = started.stateCookie.split('=')[1] as string
    const flipped = value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11)
    const res = await callback(gw, back, `__Host-gatehouse-oidc=${flipped}`)
    expect(res.status).toBe(401)
    await audited('state_invalid')
  })

  it('a state is single-use: the same callback replayed is refused', async () => {
    const started = await startSignIn(gw)
    const back = await authorizeAtIdp(started.authUrl, 'alice')
    expect((await callback(gw, back, started.stateCookie)).status).toBe(303)
    const again = await callback(gw, back, started.stateCookie)
    expect(again.status).toBe(401)
    expect(again.sessionCookie).toBeNull()
    await audited('state_replayed')
  })

  it('a code is single-use and bound to its PKCE verifier: a used code under a fresh state is refused', async () => {
    const first = await startSignIn(gw)
    const back = await authorizeAtIdp(first.authUrl, 'alice')
    expect((await callback(gw, back, first.stateCookie)).status).toBe(303)
    const second = await startSignIn(gw)
    const state = new URL(second.authUrl).searchParams.get('state') as string
    back.searchParams.set('state', state)
    const res = await callback(gw, back, second.stateCookie)
    expect(res.status).toBe(401)
    await audited('code_rejected')
  })

  it('an error sent back by the IdP (the person cancelled) is a refused sign-in, not a crash', async () => {
    const started = await startSignIn(gw)
    const state = new URL(started.authUrl).searchParams.get('state') as string
    const back = new URL(`${REDIRECT}?error=access_denied&state=${state}`)
    const res = await callback(gw, back, started.stateCookie)
    expect(res.status).toBe(401)
    await audited('idp_error')
  })

  it('the authorization request always carries PKCE S256, a state and a nonce', async () => {
    const { authUrl } = await startSignIn(gw)
    const q = new URL(authUrl).searchParams
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/)
  })

  it('the state cookie is HttpOnly, Secure, SameSite=Lax, host-only and short-lived', async () => {
    const res = await call(gw, 'GET', '/auth/oidc/login', { anonymous: true })
    const cookie = String(res.headers['set-cookie'])
    expect(cookie).toMatch(/^__Host-gatehouse-oidc=[^;]+; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  })
})

describe('the ID token: only one the IdP issued for us, for this sign-in, now', () => {
  async function withTamperedIdToken (change: (claims: Record<string, unknown>) => Record<string, unknown>, key = idp.key) {
    idp.tamperIdToken = async (claims) => await signJwt(change(claims), key)
    return await signIn(gw, 'alice')
  }

  it('control: the same re-signing with nothing changed is accepted', async () => {
    expect((await withTamperedIdToken((c) => c)).status).toBe(303)
  })

  it('a wrong nonce is refused', async () => {
    const res = await withTamperedIdToken((c) => ({ ...c, nonce: 'another-sign-in' }))
    expect(res.status).toBe(401)
    await audited('id_token_claim_mismatch')
  })

  it('an expired ID token is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    const res = await withTamperedIdToken((c) => ({ ...c, iat: now - 7200, exp: now - 3600 }))
    expect(res.status).toBe(401)
    await audited('id_token_expired')
  })

  it('an ID token for another client (audience) is refused', async () => {
    const res = await withTamperedIdToken((c) => ({ ...c, aud: 'another-client' }))
    expect(res.status).toBe(401)
  })

  it('an ID token from another issuer is refused', async () => {
    const res = await withTamperedIdToken((c) => ({ ...c, iss: 'https://evil.example' }))
    expect(res.status).toBe(401)
  })

  it('an ID token signed by another key (same kid) is refused', async () => {
    const impostor = await newSigningKey(idp.key.kid)
    const res = await withTamperedIdToken((c) => ({ ...c, groups: ['ollama-admins'] }), impostor)
    expect(res.status).toBe(401)
    expect(await gw.gateway.store.getUser('alice').then((u) => u?.roles)).not.toContain('admin')
  })
})

describe('IdP access tokens as API credentials', () => {
  it('a valid IdP access token reaches the proxied API with the mapped role', async () => {
    const res = await call(gw, 'GET', '/api/tags', bearer(await accessToken()))
    expect(res.status, res.text).toBe(200)
  })

  it('a token without the IdP\'s MFA, for a role that needs MFA, is refused (no TOTP step can follow a Bearer token)', async () => {
    for (const amr of [['pwd'], undefined]) {
      const res = await call(gw, 'GET', '/api/tags', bearer(await accessToken({ amr })))
      expect(res.status).toBe(401)
    }
    const otp = await call(gw, 'GET', '/api/tags', bearer(await accessToken({ amr: ['pwd', 'otp'] })))
    expect(otp.status).toBe(200)
  })

  it('never on /admin/*', async () => {
    const res = await call(gw, 'GET', '/admin/users', bearer(await accessToken({ groups: ['ollama-admins'] })))
    expect(res.status).toBe(401)
  })

  it('alg none is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = new UnsecuredJWT({ iss: idp.issuer, aud: 'gatehouse', preferred_username: 'api-user', groups: ['ollama-users'] })
      .setIssuedAt(now).setExpirationTime(now + 300).encode()
    expect((await call(gw, 'GET', '/api/tags', bearer(token))).status).toBe(401)
  })

  it('HS256 signed with the IdP public key as the secret is refused', async () => {
    const pem = await exportSPKI(createPublicKey(idp.key.privateKey))
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ iss: idp.issuer, aud: 'gatehouse', preferred_username: 'api-user', groups: ['ollama-users'] })
      .setProtectedHeader({ alg: 'HS256', kid: idp.key.kid }).setIssuedAt(now).setExpirationTime(now + 300)
      .sign(createSecretKey(Buffer.from(pem)))
    expect((await call(gw, 'GET', '/api/tags', bearer(token))).status).toBe(401)
  })

  it('wrong audience, expired, not yet valid, or without kid: refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const claims of [{ aud: 'other-api' }, { exp: now - 60, iat: now - 600 }, { nbf: now + 600 }]) {
      expect((await call(gw, 'GET', '/api/tags', bearer(await accessToken(claims)))).status).toBe(401)
    }
    const noKid = await new SignJWT({ iss: idp.issuer, aud: 'gatehouse', preferred_username: 'api-user', groups: ['ollama-users'] })
      .setProtectedHeader({ alg: 'RS256' }).setIssuedAt(now).setExpirationTime(now + 300).sign(idp.key.privateKey)
    expect((await call(gw, 'GET', '/api/tags', bearer(noKid))).status).toBe(401)
  })

  it('signed by a key the IdP does not publish: refused', async () => {
    const other = await newSigningKey('not-published')
    expect((await call(gw, 'GET', '/api/tags', bearer(await accessToken({}, other)))).status).toBe(401)
  })

  it('a Gatehouse user of that name who is disabled is refused', async () => {
    await signIn(gw, 'mallory')
    await gw.gateway.auth.userAdmin.disableUser('mallory')
    const token = await accessToken({ sub: 'mallory', preferred_username: 'mallory' })
    expect((await call(gw, 'GET', '/api/tags', bearer(token))).status).toBe(401)
  })

  it('key rotation at the IdP: a token under the new key is accepted once the JWKS is refetched', async () => {
    expect((await call(gw, 'GET', '/api/tags', bearer(await accessToken()))).status).toBe(200)
    const next = await newSigningKey('idp-key-2')
    idp.jwksOverride = { keys: [publicJwk(next.jwk)] }
    const token = await accessToken({}, next)
    // an unknown kid refetches the JWKS, at most once per cooldown (10 s, timed by jose with
    // Date.now()): the wall clock is moved past it rather than waited out
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 11_000)
      expect((await call(gw, 'GET', '/api/tags', bearer(token))).status).toBe(200)
      // the retired key is gone from the JWKS, so its tokens are refused
      expect((await call(gw, 'GET', '/api/tags', bearer(await accessToken()))).status).toBe(401)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('failing callbacks are throttled like failing logins', () => {
  it('after perIpMaxFailures refused callbacks, the address gets 429 with Retry-After', async () => {
    const g = await startTestGateway({
      auth: {
        lockout: { perIpMaxFailures: 3 },
        oidc: { enabled: true, issuer: idp.issuer, clientId: idp.clientId, redirectUri: REDIRECT, roleMapping: { 'ollama-users': 'user' } }
      }
    }, { env: { GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) {
        const res = await call(g, 'GET', '/auth/oidc/callback?code=x&state=y', { anonymous: true })
        statuses.push(res.status)
        if (res.status === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401])
      expect(statuses.at(-1)).toBe(429)
    } finally {
      await g.close()
    }
  })
})
