// Signed JWTs for sessions (access tokens) and for the short step between password and TOTP (MFA
// tokens). Asymmetric key, algorithm pinned, `kid` required and matched, iss/aud/typ/exp required,
// and the two kinds told apart by `typ` so one can never stand in for the other.
import { randomUUID, type KeyObject } from 'node:crypto'
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload, type JWTHeaderParameters } from 'jose'
import type { Clock } from '../clock.js'

const ACCESS_TYP = 'at+jwt'
const MFA_TYP = 'gatehouse-mfa+jwt'
export const MFA_TOKEN_TTL_SECONDS = 300

export interface AccessClaims {
  sub: string
  roles: string[]
  amr: string[]
  jti: string
  /** the user's sessionEpoch when the token was issued */
  sep: number
  iat: number
  exp: number
}

export interface MfaClaims {
  sub: string
  /** verify: the user has TOTP; enroll: the first valid code completes enrollment */
  pur: 'verify' | 'enroll'
  sep: number
  /** enroll only: the new TOTP secret, sealed with the TOTP key (the client sees it in otpauth_url anyway) */
  tse?: string
  jti: string
  exp: number
}

export type Verified<T> = { ok: true, claims: T } | { ok: false, reason: string }

export interface TokenServiceOptions {
  privateKey: KeyObject
  publicKey: KeyObject
  kid: string
  issuer: string
  audience: string
  clock: Clock
  /** verified access tokens remembered (signature and claims only; revocation is checked per request) */
  cacheSize?: number
}

export interface TokenService {
  readonly alg: 'EdDSA' | 'ES256'
  issueAccess: (c: Omit<AccessClaims, 'iat' | 'jti'> & { jti?: string }) => Promise<{ token: string, claims: AccessClaims }>
  issueMfa: (c: Omit<MfaClaims, 'jti' | 'exp'>) => Promise<{ token: string, claims: MfaClaims }>
  verifyAccess: (token: string) => Promise<Verified<AccessClaims>>
  verifyMfa: (token: string) => Promise<Verified<MfaClaims>>
}

function algFor (key: KeyObject): 'EdDSA' | 'ES256' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error('JWT signing key must be Ed25519 or P-256')
}

// Header parameters that would let a token pick its own verification key; never honoured, always refused.
const FORBIDDEN_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256']

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)

function reasonOf (err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim_${err.claim}_${err.reason}`.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64)
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature'
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed'
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed'
  if (err instanceof Error && err.message.startsWith('gatehouse:')) return err.message.slice('gatehouse:'.length)
  return 'invalid'
}

export function createTokenService (o: TokenServiceOptions): TokenService {
  const alg = algFor(o.privateKey)
  if (algFor(o.publicKey) !== alg) throw new Error('JWT public and private keys differ in type')
  const cacheSize = o.cacheSize ?? 10_000
  const cache = new Map<string, AccessClaims>()
  const nowSeconds = () => Math.floor(o.clock.now() / 1000)

  const getKey = (header: JWTHeaderParameters): KeyObject => {
    for (const h of FORBIDDEN_HEADERS) if (h in header) throw new Error(`gatehouse:header_${h}_refused`)
    if (header.kid !== o.kid) throw new Error('gatehouse:unknown_kid')
    return o.publicKey
  }

  async function verify (token: string, typ: string): Promise<Verified<JWTPayload>> {
    if (token.length > 8192) return { ok: false, reason: 'too_long' }
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: [alg],
        issuer: o.issuer,
        audience: o.audience,
        typ,
        requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti'],
        currentDate: new Date(o.clock.now()),
        clockTolerance: 0
      })
      return { ok: true, claims: payload }
    } catch (err) {
      return { ok: false, reason: reasonOf(err) }
    }
  }

  const sign = (payload: JWTPayload, typ: string, iat: number, exp: number) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg, kid: o.kid, typ })
      .setIssuer(o.issuer).setAudience(o.audience)
      .setIssuedAt(iat).setExpirationTime(exp)
      .sign(o.privateKey)

  return {
    alg,
    async issueAccess (c) {
      const claims: AccessClaims = { sub: c.sub, roles: c.roles, amr: c.amr, sep: c.sep, exp: c.exp, jti: c.jti ?? randomUUID(),
        iat: nowSeconds() }
      const token = await sign({ sub: claims.sub, roles: claims.roles, amr: claims.amr, sep: claims.sep, jti: claims.jti }, ACCESS_TYP,
        claims.iat, claims.exp)
      return { token, claims }
    },
    async issueMfa (c) {
      const iat = nowSeconds()
      const claims: MfaClaims = { ...c, jti: randomUUID(), exp: iat + MFA_TOKEN_TTL_SECONDS }
      const token = await sign({ ...claims }, MFA_TYP, iat, claims.exp)
      return { token, claims }
    },
    async verifyAccess (token) {
      const cached = cache.get(token)
      if (cached !== undefined) {
        // the signature was checked before; time moves on, so expiry is checked again every time
        if (cached.exp <= nowSeconds()) { cache.delete(token); return { ok: false, reason: 'expired' } }
        return { ok: true, claims: cached }
      }
      const r = await verify(token, ACCESS_TYP)
      if (!r.ok) return r
      const p = r.claims
      if (typeof p.sub !== 'string' || !isStringArray(p.roles) || !isStringArray(p.amr) || typeof p.jti !== 'string' ||
        !isInt(p.sep) || !isInt(p.iat) || !isInt(p.exp)) return { ok: false, reason: 'claims_shape' }
      if (p.iat > nowSeconds()) return { ok: false, reason: 'iat_in_future' }
      const claims: AccessClaims = { sub: p.sub, roles: p.roles, amr: p.amr, jti: p.jti, sep: p.sep, iat: p.iat, exp: p.exp }
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string)
      cache.set(token, claims)
      return { ok: true, claims }
    },
    async verifyMfa (token) {
      const r = await verify(token, MFA_TYP)
      if (!r.ok) return r
      const p = r.claims
      if (typeof p.sub !== 'string' || (p.pur !== 'verify' && p.pur !== 'enroll') || !isInt(p.sep) || typeof p.jti !== 'string' ||
        !isInt(p.exp) || (p.tse !== undefined && typeof p.tse !== 'string') || (p.pur === 'enroll' && typeof p.tse !== 'string')) {
        return { ok: false, reason: 'claims_shape' }
      }
      if (typeof p.iat !== 'number' || p.iat > nowSeconds()) return { ok: false, reason: 'iat_in_future' }
      return { ok: true,
        claims: { sub: p.sub, pur: p.pur, sep: p.sep, jti: p.jti, exp: p.exp, ...(typeof p.tse === 'string' ? { tse: p.tse } : {}) } }
    }
  }
}
