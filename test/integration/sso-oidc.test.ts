// Single sign-on against a real OpenID Provider (oidc-provider, started here on 127.0.0.1; see
// test/helpers/oidc-idp.ts for how it logs users in without a browser): accounts, roles from
// groups at every sign-in, MFA from the IdP or locally, refusals and their audit events.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { startTestIdp, type TestIdp } from '../helpers/oidc-idp.js'
import { authorizeAtIdp, callback, signIn, startSignIn } from '../helpers/oidc-flow.js'
import { eventually } from '../helpers/eventually.js'
import { totpCodeAt } from '../helpers/totp.js'

const REDIRECT = 'https://127.0.0.1:8443/auth/oidc/callback'

interface Ev { event: { action: string, outcome: string, reason?: string, provider?: string }, user?: { name?: string } }

let idp: TestIdp
let gw: TestGateway

function auditEvents (g: TestGateway): Ev[] {
  return readFileSync(join(g.dir, 'logs', 'audit.log'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Ev)
}

async function auditedEvent (g: TestGateway, match: (e: Ev) => boolean): Promise<Ev> {
  return await eventually(() => {
    const found = auditEvents(g).find(match)
    if (found === undefined) throw new Error('event not audited yet')
    return found
  })
}

function ssoConfig (issuer: string, extra: Record<string, unknown> = {}) {
  return {
    auth: {
      mfa: { requiredForRoles: ['admin'] },
      // refusals below all come from 127.0.0.1: the per-address throttle has its own test (sso-oidc.security)
      lockout: { perIpMaxFailures: 200 },
      oidc: {
        enabled: true, issuer, clientId: 'gatehouse', redirectUri: REDIRECT,
        roleMapping: { 'ollama-admins': 'admin', 'ollama-users': 'user' }, ...extra
      }
    }
  }
}

beforeAll(async () => {
  idp = await startTestIdp({
    redirectUri: REDIRECT,
    users: {
      alice: { groups: ['ollama-users', 'unrelated'], amr: ['pwd'] },
      root: { groups: ['ollama-admins'], amr: ['pwd', 'mfa'] },
      bob: { groups: ['ollama-admins'], amr: ['pwd'] },
      gina: { groups: ['ollama-admins'], amr: ['pwd'] },
      hank: { groups: ['ollama-users'], amr: ['pwd'] },
      dave: { groups: ['ollama-admins', 'ollama-users'], amr: ['pwd', 'otp'] },
      eve: { groups: ['marketing'], amr: ['pwd'] },
      frank: { groups: ['ollama-users'], amr: ['pwd'] },
      carol: { groups: ['ollama-admins'], amr: ['pwd', 'mfa'] },
      mixed: { groups: ['ollama-users'], amr: ['pwd'], name: '  MiXeD.Case ' }
    }
  })
  gw = await startTestGateway(ssoConfig(idp.issuer), { env: { GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret } })
})

afterAll(async () => {
  await gw?.close()
  await idp?.stop()
})

describe('single sign-on: accounts and roles', () => {
  it('a user of a mapped group signs in, gets a session with the mapped role and lands on /console/', async () => {
    const res = await signIn(gw, 'alice')
    expect(res.status, res.text).toBe(303)
    expect(res.location).toBe('/console/')
    expect(res.sessionCookie).not.toBeNull()
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { cookie: res.sessionCookie as string } })
    expect(me.json).toMatchObject({ username: 'alice', roles: ['user'], amr: ['fed'] })
    expect(await gw.gateway.store.getUser('alice')).toMatchObject({ source: 'oidc', passwordHash: '', roles: ['user'] })
    const ev = await auditedEvent(gw, (e) => e.event.action === 'login' && e.event.outcome === 'success' && e.user?.name === 'alice')
    expect(ev.event.provider).toBe('oidc')
  })

  it('sign-ins are counted in gatehouse_sso_logins_total by outcome', async () => {
    await signIn(gw, 'alice')
    await signIn(gw, 'eve')
    const metrics = await call(gw, 'GET', '/metrics')
    expect(metrics.text).toMatch(/^gatehouse_sso_logins_total\{outcome="success"\} [1-9]/m)
    expect(metrics.text).toMatch(/^gatehouse_sso_logins_total\{outcome="failure"\} [1-9]/m)
  })

  it('the user name claim is canonicalized like local names', async () => {
    const res = await signIn(gw, 'mixed')
    expect(res.status, res.text).toBe(303)
    expect(await gw.gateway.store.getUser('mixed.case')).toMatchObject({ source: 'oidc' })
  })

  it('an SSO account has no password: password login answers exactly as for an unknown user', async () => {
    await signIn(gw, 'alice')
    const body = JSON.stringify({ username: 'alice', password: '' + 'x'.repeat(12) })
    const sso = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' }, body })
    const unknown = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody-here', password: 'x'.repeat(12) }) })
    expect(sso.status).toBe(401)
    expect(sso.text).toBe(unknown.text)
    // empty password (the stored hash is empty) is refused too
    const empty = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: '' }) })
    expect([400, 401]).toContain(empty.status)
  })

  it('user lists show the source', async () => {
    await signIn(gw, 'alice')
    const users = await gw.gateway.auth.userAdmin.listUsers()
    expect(users.find((u) => u.username === 'alice')?.source).toBe('oidc')
  })

  it('an SSO account is never given a local password, not even a one-time one', async () => {
    await signIn(gw, 'alice')
    for (const temporary of [true, false]) {
      await expect(gw.gateway.auth.userAdmin.setPassword('alice', 'emerald-canyon-thistle-77', {}, { temporary }))
        .rejects.toMatchObject({ code: 'GH_ERR_CONFLICT' })
    }
    expect(await gw.gateway.store.getUser('alice')).toMatchObject({ source: 'oidc', passwordHash: '', passwordMustChange: false })
  })

  it('MFA done at the IdP (amr in mfaFromIdp) satisfies an MFA-required role: admin session at once', async () => {
    const res = await signIn(gw, 'root')
    expect(res.status, res.text).toBe(303)
    expect(res.location).toBe('/console/')
    const cookie = res.sessionCookie as string
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { cookie } })
    expect(me.json).toMatchObject({ username: 'root', roles: ['admin'], amr: ['fed', 'mfa'] })
    const users = await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { cookie } })
    expect(users.status).toBe(200)
  })

  it('without IdP MFA, an MFA-required role goes on to the local TOTP step (enrollment first)', async () => {
    const res = await signIn(gw, 'bob')
    expect(res.status, res.text).toBe(303)
    expect(res.sessionCookie).toBeNull()
    const fragment = new URLSearchParams((res.location as string).split('#')[1])
    expect(res.location?.startsWith('/console/#')).toBe(true)
    expect(fragment.get('status')).toBe('mfa_enrollment_required')
    expect(fragment.get('mfa_token')).toMatch(/^ey/)
    expect(fragment.get('otpauth_url')).toMatch(/^otpauth:\/\/totp\/Gatehouse:bob\?/)
  })

  it('the local TOTP step after single sign-on completes with POST /auth/mfa: session amr fed+otp, admin allowed', async () => {
    const res = await signIn(gw, 'gina')
    const fragment = new URLSearchParams((res.location as string).split('#')[1])
    const secret = new URL(fragment.get('otpauth_url') as string).searchParams.get('secret') as string
    const mfa = await call(gw, 'POST', '/auth/mfa', { anonymous: true, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mfa_token: fragment.get('mfa_token'), code: await totpCodeAt(secret, Date.now()) }) })
    expect(mfa.status, mfa.text).toBe(200)
    const token = (mfa.json as { access_token: string }).access_token
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { authorization: `Bearer ${token}` } })
    expect(me.json).toMatchObject({ username: 'gina', roles: ['admin'], amr: ['fed', 'otp'] })
    expect((await call(gw, 'GET', '/admin/users', { anonymous: true, headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    // enrolled now: the next sign-in asks for a code (mfa_required)
    const again = await signIn(gw, 'gina')
    expect(new URLSearchParams((again.location as string).split('#')[1]).get('status')).toBe('mfa_required')
  })

  it('a group removed at the IdP removes the role at the next sign-in, and older sessions end', async () => {
    const first = await signIn(gw, 'dave')
    expect(first.status, first.text).toBe(303)
    expect((await gw.gateway.store.getUser('dave'))?.roles).toEqual(['admin', 'user'])
    ;(idp.users.get('dave') as { groups: string[] }).groups = ['ollama-users']
    const second = await signIn(gw, 'dave')
    expect(second.status, second.text).toBe(303)
    expect((await gw.gateway.store.getUser('dave'))?.roles).toEqual(['user'])
    const old = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { cookie: first.sessionCookie as string } })
    expect(old.status).toBe(401)
    const me = await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { cookie: second.sessionCookie as string } })
    expect(me.json).toMatchObject({ roles: ['user'] })
  })

  it('a role set by hand is replaced at the next sign-in', async () => {
    await signIn(gw, 'frank')
    await gw.gateway.auth.userAdmin.setRole('frank', 'monitor')
    expect((await gw.gateway.store.getUser('frank'))?.roles).toEqual(['monitor'])
    await signIn(gw, 'frank')
    expect((await gw.gateway.store.getUser('frank'))?.roles).toEqual(['user'])
  })

  it('no mapped group: 403 "no role for this account", an access-denied event, no account', async () => {
    const res = await signIn(gw, 'eve')
    expect(res.status).toBe(403)
    expect(res.json).toEqual({ error: 'no role for this account' })
    expect(await gw.gateway.store.getUser('eve')).toBeNull()
    await auditedEvent(gw, (e) => e.event.action === 'access-denied' && e.user?.name === 'eve' && e.event.reason === 'no_mapped_group')
    const login = await auditedEvent(gw, (e) => e.event.action === 'login' && e.event.outcome === 'failure' && e.user?.name === 'eve')
    expect(login.event).toMatchObject({ provider: 'oidc', reason: 'no_mapped_group' })
  })

  it('a user disabled in Gatehouse is refused at the next sign-in', async () => {
    await signIn(gw, 'frank')
    await gw.gateway.auth.userAdmin.disableUser('frank')
    const res = await signIn(gw, 'frank')
    expect(res.status).toBe(401)
    expect(res.sessionCookie).toBeNull()
    await auditedEvent(gw, (e) => e.event.action === 'login' && e.user?.name === 'frank' && e.event.reason === 'disabled')
    await gw.gateway.auth.userAdmin.enableUser('frank')
    expect((await signIn(gw, 'frank')).status).toBe(303)
  })

  it('a local account of the same name is never taken over: refused, named in the audit event, left as it was', async () => {
    await gw.gateway.auth.userAdmin.addUser('carol', 'user', 'a-long-local-passphrase-1')
    const res = await signIn(gw, 'carol')
    expect(res.status).toBe(401)
    expect(res.sessionCookie).toBeNull()
    expect(await gw.gateway.store.getUser('carol')).toMatchObject({ source: 'local', roles: ['user'] })
    await auditedEvent(gw, (e) => e.event.action === 'login' && e.user?.name === 'carol' && e.event.reason === 'local_account_exists')
  })
})

describe('single sign-on: lockout', () => {
  it('a locked account is refused even after a good sign-in at the IdP, and the lock is not extended', async () => {
    const now = Date.now()
    for (let i = 0; i < 3; i++) await gw.gateway.store.recordFailure('hank', 3, 900_000, now)
    const before = await gw.gateway.store.failureState('hank')
    const res = await signIn(gw, 'hank')
    expect(res.status).toBe(401)
    expect(res.sessionCookie).toBeNull()
    await auditedEvent(gw, (e) => e.event.action === 'login' && e.user?.name === 'hank' && e.event.reason === 'locked')
    expect(await gw.gateway.store.failureState('hank')).toEqual(before)
  })
})

describe('single sign-on: the IdP is down', () => {
  it('at the start of a sign-in: a clear 502, nothing created', async () => {
    const down = await startTestIdp({ redirectUri: REDIRECT, users: { zed: { groups: ['ollama-users'], amr: [] } } })
    const g = await startTestGateway(ssoConfig(down.issuer), { env: { GATEHOUSE_OIDC_CLIENT_SECRET: down.clientSecret } })
    try {
      await down.stop()
      const res = await call(g, 'GET', '/auth/oidc/login', { anonymous: true })
      expect(res.status).toBe(502)
      expect(res.json).toEqual({ error: 'the identity provider cannot be reached; try again later' })
      await auditedEvent(g, (e) => e.event.action === 'login' && e.event.reason === 'idp_unreachable')
      // a person in a browser gets a page saying why, with a way back, and nothing that runs
      const page = await call(g, 'GET', '/auth/oidc/login', { anonymous: true, headers: { accept: 'text/html,application/xhtml+xml' } })
      expect(page.status).toBe(502)
      expect(page.headers['content-type']).toMatch(/^text\/html/)
      expect(page.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'")
      expect(page.text).toContain('<p>the identity provider cannot be reached; try again later</p>')
      expect(page.text).toContain('href="/console/"')
      expect(page.text).not.toMatch(/<script|<style/i)
    } finally {
      await g.close()
    }
  })

  it('between the redirect and the callback: a clear 502, no account, no session', async () => {
    const down = await startTestIdp({ redirectUri: REDIRECT, users: { zed: { groups: ['ollama-users'], amr: [] } } })
    const g = await startTestGateway(ssoConfig(down.issuer), { env: { GATEHOUSE_OIDC_CLIENT_SECRET: down.clientSecret } })
    try {
      const started = await startSignIn(g)
      const back = await authorizeAtIdp(started.authUrl, 'zed')
      await down.stop()
      const res = await callback(g, back, started.stateCookie)
      expect(res.status).toBe(502)
      expect(res.sessionCookie).toBeNull()
      expect(await g.gateway.store.getUser('zed')).toBeNull()
    } finally {
      await g.close()
    }
  })
})
