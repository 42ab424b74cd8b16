import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeProtectedHeader, decodeJwt } from 'jose'
import { manualClock } from '../../helpers/clock.js'
import { createTokenService, MFA_TOKEN_TTL_SECONDS } from '../../../src/auth/tokens.js'

function service (type: 'ed25519' | 'ec' = 'ed25519') {
  const clock = manualClock()
  const { privateKey, publicKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { clock, tokens: createTokenService({ privateKey, publicKey, kid: 'k1', issuer: 'gatehouse', audience: 'gatehouse', clock }) }
}

const access = (now: number) => ({ sub: 'alice', roles: ['user'], amr: ['pwd', 'otp'], sep: 3, exp: Math.floor(now / 1000) + 60 })

describe('token service', () => {
  it('access tokens carry kid, typ at+jwt, iss, aud, sub, roles, amr, jti, iat, exp', async () => {
    const { tokens, clock } = service()
    const { token, claims } = await tokens.issueAccess(access(clock.now()))
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
    expect(decodeJwt(token)).toEqual({
      iss: 'gatehouse', aud: 'gatehouse', sub: 'alice', roles: ['user'], amr: ['pwd', 'otp'], sep: 3,
      jti: claims.jti, iat: Math.floor(clock.now() / 1000), exp: claims.exp
    })
    expect(await tokens.verifyAccess(token)).toEqual({ ok: true, claims })
  })

  it('ES256 (P-256) keys work too, with the algorithm pinned to the key', async () => {
    const { tokens, clock } = service('ec')
    expect(tokens.alg).toBe('ES256')
    const { token } = await tokens.issueAccess(access(clock.now()))
    expect(decodeProtectedHeader(token).alg).toBe('ES256')
    expect((await tokens.verifyAccess(token)).ok).toBe(true)
  })

  it('RSA keys are refused at construction', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    expect(() => createTokenService({ privateKey, publicKey, kid: 'k', issuer: 'i', audience: 'a', clock: manualClock() })).toThrow()
  })

  it('mfa and access tokens are not interchangeable (distinct typ)', async () => {
    const { tokens, clock } = service()
    const mfa = await tokens.issueMfa({ sub: 'alice', pur: 'verify', sep: 0 })
    expect(decodeProtectedHeader(mfa.token).typ).toBe('gatehouse-mfa+jwt')
    expect(mfa.claims.exp - Math.floor(clock.now() / 1000)).toBe(MFA_TOKEN_TTL_SECONDS)
    expect((await tokens.verifyAccess(mfa.token)).ok).toBe(false)
    const acc = await tokens.issueAccess(access(clock.now()))
    expect((await tokens.verifyMfa(acc.token)).ok).toBe(false)
    expect(await tokens.verifyMfa(mfa.token)).toEqual({ ok: true, claims: mfa.claims })
  })

  it('a cached verification still expires on time', async () => {
    const { tokens, clock } = service()
    const { token } = await tokens.issueAccess(access(clock.now()))
    expect((await tokens.verifyAccess(token)).ok).toBe(true)
    clock.advance(59_000)
    expect((await tokens.verifyAccess(token)).ok).toBe(true)
    clock.advance(1_000)
    expect(await tokens.verifyAccess(token)).toEqual({ ok: false, reason: 'expired' })
  })

  it('tokens evicted from a full cache still verify', async () => {
    const clock = manualClock()
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const tokens = createTokenService({ privateKey, publicKey, kid: 'k', issuer: 'i', audience: 'a', clock, cacheSize: 2 })
    const issued = await Promise.all([1, 2, 3].map(() => tokens.issueAccess(access(clock.now()))))
    for (const { token } of issued) expect((await tokens.verifyAccess(token)).ok).toBe(true)
    for (const { token } of issued) expect((await tokens.verifyAccess(token)).ok).toBe(true)
  })

  it('an mfa token expires after 5 minutes', async () => {
    const { tokens, clock } = service()
    const mfa = await tokens.issueMfa({ sub: 'alice', pur: 'enroll', sep: 0, tse: 'sealed' })
    clock.advance(MFA_TOKEN_TTL_SECONDS * 1000 - 1000)
    expect((await tokens.verifyMfa(mfa.token)).ok).toBe(true)
    clock.advance(1000)
    expect((await tokens.verifyMfa(mfa.token)).ok).toBe(false)
  })
})
