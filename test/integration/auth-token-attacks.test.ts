// Security regressions: forged, altered and misused JWTs never authenticate. Each attack is its own
// case, next to a control showing that the same forging helper with honest inputs is accepted, so
// every rejection below is for the stated reason.
import { generateKeyPairSync, createHmac } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SignJWT, decodeJwt, exportJWK, type JWTPayload } from 'jose'
import { createHarness, login, bearer, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
let valid: string
let claims: JWTPayload

beforeEach(async () => {
  h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
  await h.auth.userAdmin.addUser('mallory', 'user', TEST_PASSWORD)
  valid = (await login(h, 'mallory', TEST_PASSWORD)).json().access_token
  claims = decodeJwt(valid)
})
afterEach(async () => { await h.close() })

const me = (token: string) => h.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) })
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

/** Signs `payload` with the real key (or `key`) and the given header. */
async function forge (payload: JWTPayload, header: Record<string, unknown> = {}, key = h.keys.privateKey, alg = 'EdDSA'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, kid: h.keys.kid, typ: 'at+jwt', ...header }).sign(key)
}

async function expectRejected (token: string, reason?: string): Promise<void> {
  const r = await me(token)
  expect(r.statusCode).toBe(401)
  expect(r.headers['www-authenticate']).toBe('Bearer')
  expect(r.json()).toEqual({ error: 'invalid or expired credentials' })
  const rejected = h.events.filter((e) => e.action === 'token-rejected')
  expect(rejected.length).toBeGreaterThan(0)
  if (reason !== undefined) expect(rejected.at(-1)?.reason).toBe(reason)
  // the audit event never carries the token
  expect(JSON.stringify(h.events)).not.toContain(token)
}

describe('JWT attacks', () => {
  it('control: the same claims re-signed with the real key and header are accepted', async () => {
    expect((await me(await forge(claims))).statusCode).toBe(200)
  })

  it('alg:none is rejected', async () => {
    await expectRejected(`${b64({ alg: 'none', kid: h.keys.kid, typ: 'at+jwt' })}.${b64(claims)}.`)
  })

  it('HS256 signed with the public key as the HMAC secret is rejected', async () => {
    const pem = h.keys.publicKey.export({ type: 'spki', format: 'pem' }) as string
    const head = b64({ alg: 'HS256', kid: h.keys.kid, typ: 'at+jwt' })
    const body = b64(claims)
    const sig = createHmac('sha256', pem).update(`${head}.${body}`).digest('base64url')
    await expectRejected(`${head}.${body}.${sig}`, 'alg_not_allowed')
  })

  it('a wrong issuer is rejected', async () => {
    await expectRejected(await forge({ ...claims, iss: 'evil' }), 'claim_iss_check_failed')
  })

  it('a missing issuer is rejected', async () => {
    const { iss: _iss, ...rest } = claims
    await expectRejected(await forge(rest))
  })

  it('a wrong audience is rejected', async () => {
    await expectRejected(await forge({ ...claims, aud: 'another-service' }), 'claim_aud_check_failed')
  })

  it('a missing audience is rejected', async () => {
    const { aud: _aud, ...rest } = claims
    await expectRejected(await forge(rest))
  })

  it('a missing exp is rejected', async () => {
    const { exp: _exp, ...rest } = claims
    await expectRejected(await forge(rest))
  })

  it('an expired token is rejected', async () => {
    h.clock.advance(h.config.auth.sessionTtlSeconds * 1000 + 1000)
    await expectRejected(valid, 'expired')
  })

  it('a token that is not yet valid (nbf in the future) is rejected', async () => {
    await expectRejected(await forge({ ...claims, nbf: Math.floor(h.clock.now() / 1000) + 600 }))
  })

  it('a token issued in the future is rejected', async () => {
    await expectRejected(await forge({ ...claims, iat: Math.floor(h.clock.now() / 1000) + 600 }))
  })

  it('an unknown kid is rejected', async () => {
    await expectRejected(await forge(claims, { kid: 'some-other-key' }), 'unknown_kid')
  })

  it('a path-like kid is rejected', async () => {
    await expectRejected(await forge(claims, { kid: '../../../../dev/null' }), 'unknown_kid')
  })

  it('a missing kid is rejected', async () => {
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(h.keys.privateKey)
    await expectRejected(token, 'unknown_kid')
  })

  it('a jwk header carrying the attacker\'s own key is rejected', async () => {
    const attacker = generateKeyPairSync('ed25519')
    const jwk = await exportJWK(attacker.publicKey)
    await expectRejected(await forge(claims, { jwk }, attacker.privateKey), 'header_jwk_refused')
  })

  it('a jwk header is refused even on a token signed by the real key', async () => {
    const jwk = await exportJWK(h.keys.publicKey)
    await expectRejected(await forge(claims, { jwk }), 'header_jwk_refused')
  })

  it('a jku header is rejected', async () => {
    const attacker = generateKeyPairSync('ed25519')
    await expectRejected(await forge(claims, { jku: 'https://attacker.example/jwks.json' }, attacker.privateKey), 'header_jku_refused')
  })

  it('a token signed by another Ed25519 key with our kid is rejected', async () => {
    const attacker = generateKeyPairSync('ed25519')
    await expectRejected(await forge(claims, {}, attacker.privateKey), 'bad_signature')
  })

  it('a payload edited to roles:["admin"] is rejected', async () => {
    const [head, , sig] = valid.split('.')
    const edited = `${head}.${b64({ ...claims, roles: ['admin'] })}.${sig}`
    await expectRejected(edited, 'bad_signature')
  })

  it('roles in a validly signed token do not override the stored roles', async () => {
    const r = await me(await forge({ ...claims, roles: ['admin'] }))
    expect(r.statusCode).toBe(200)
    expect(r.json().roles).toEqual(['user'])
  })

  it('a token with another typ is rejected', async () => {
    await expectRejected(await forge(claims, { typ: 'JWT' }))
  })

  it('the mfa_token used as an access token is rejected', async () => {
    await h.auth.userAdmin.addUser('carol', 'admin', TEST_PASSWORD)
    const r = (await login(h, 'carol', TEST_PASSWORD)).json()
    expect(r.status).toBe('mfa_enrollment_required')
    await expectRejected(r.mfa_token)
    const proxied = await h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(r.mfa_token) })
    expect(proxied.statusCode).toBe(401)
    const logout = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(r.mfa_token) })
    expect(logout.statusCode).toBe(401)
  })

  it('an access token used as an mfa_token is rejected at /auth/mfa', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/auth/mfa', payload: { mfa_token: valid, code: '123456' } })
    expect(r.statusCode).toBe(401)
  })

  it('a session id that was never issued is rejected even with a valid signature', async () => {
    await expectRejected(await forge({ ...claims, jti: '00000000-0000-4000-8000-000000000000' }), 'unknown_session')
  })

  it('garbage and truncated tokens are rejected', async () => {
    await expectRejected('not-a-jwt')
    await expectRejected(valid.slice(0, -5))
    await expectRejected('a'.repeat(9000), 'too_long')
  })
})
