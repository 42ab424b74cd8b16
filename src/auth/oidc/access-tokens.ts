// Access tokens of the single sign-on IdP as API credentials (auth.oidc.acceptAccessTokens): JWTs
// checked against the IdP's JWKS (fetched remotely, cached, refetched when an unknown `kid` shows up,
// which is how key rotation reaches us), with iss, aud, exp and nbf checked and the algorithm pinned
// to asymmetric ones. Roles come from the same group mapping as sign-ins.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose'
import type { Clock } from '../../clock.js'
import type { GatehouseConfig } from '../../config/schema.js'
import type { Store } from '../../store/types.js'
import type { Identity } from '../identity.js'
import { mfaRequired } from '../mfa-policy.js'
import { groupsFromClaims, rolesFromGroups, usernameFromClaims } from './claims.js'

/** Never HS* (a public key used as an HMAC secret) and never `none`. */
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']

/** How soon an unknown `kid` may trigger another JWKS fetch (rotation is seen within this). */
const JWKS_COOLDOWN_MS = 10_000
/** A JWKS is refetched at the latest after this long. */
const JWKS_MAX_AGE_MS = 10 * 60_000

/** What the credential chain gets back: an identity, or why the token is not one. */
export type IdpLoadResult =
  | { kind: 'identity', identity: Identity }
  | { kind: 'invalid', credential: 'idp_token', reason: string }

export interface IdpTokenLoader {
  /** true when the bearer token says it is from the IdP (its unverified `iss`): only then does `load` decide */
  claims: (token: string) => boolean
  load: (token: string) => Promise<IdpLoadResult>
}

export interface IdpTokenOptions {
  oidc: GatehouseConfig['auth']['oidc']
  /** auth.mfa.requiredForRoles: a token for such a role must carry the IdP's MFA (`amr` in mfaFromIdp) */
  mfaRequiredForRoles: readonly string[]
  jwksUri: () => Promise<string>
  store: Pick<Store, 'getUser'>
  clock: Clock
}

export function createIdpTokenLoader (o: IdpTokenOptions): IdpTokenLoader {
  const issuer = o.oidc.issuer as string
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null
  const keySet = (): Promise<ReturnType<typeof createRemoteJWKSet>> => {
    if (jwks === null) {
      const p = o.jwksUri().then((uri) =>
        createRemoteJWKSet(new URL(uri), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS }))
      jwks = p
      p.catch(() => { if (jwks === p) jwks = null })
    }
    return jwks
  }
  const fail = (reason: string): IdpLoadResult => ({ kind: 'invalid', credential: 'idp_token', reason })

  return {
    claims (token) {
      try {
        return decodeJwt(token).iss === issuer
      } catch {
        return false
      }
    },

    async load (token) {
      let kid: unknown
      try {
        kid = decodeProtectedHeader(token).kid
      } catch {
        return fail('idp_token_malformed')
      }
      if (typeof kid !== 'string' || kid.length === 0) return fail('idp_token_no_kid')
      let set
      try {
        set = await keySet()
      } catch {
        return fail('idp_unreachable')
      }
      let payload: JWTPayload
      try {
        ({ payload } = await jwtVerify(token, set, {
          issuer,
          audience: o.oidc.acceptAccessTokens.audience,
          algorithms: ASYMMETRIC_ALGORITHMS,
          currentDate: new Date(o.clock.now()),
          requiredClaims: ['exp']
        }))
      } catch (err) {
        const code = (err as { code?: unknown }).code
        return fail(code === 'ERR_JWT_EXPIRED' ? 'idp_token_expired' : code === 'ERR_JWKS_NO_MATCHING_KEY' ? 'idp_token_unknown_key'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? 'idp_token_claim_mismatch' : 'idp_token_invalid')
      }
      const claims = payload as Record<string, unknown>
      const name = usernameFromClaims(claims, o.oidc.usernameClaim)
      if (name === null) return fail('idp_token_no_username')
      const roles = rolesFromGroups(groupsFromClaims(claims, o.oidc.groupsClaim), o.oidc.roleMapping)
      if (roles.length === 0) return fail('no_mapped_group')
      const user = await o.store.getUser(name)
      if (user !== null && user.status !== 'active') return fail('user_disabled')
      // a local account's name is never borrowed by an IdP token
      if (user !== null && user.source === 'local') return fail('local_account_exists')
      const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : []
      // no local TOTP step can follow a Bearer token: a role that needs MFA needs the IdP's
      const idpMfa = amr.some((m) => o.oidc.mfaFromIdp.includes(m))
      if (mfaRequired(roles, o.mfaRequiredForRoles) && !idpMfa) return fail('mfa_required')
      if (user !== null && user.lockedUntil !== null && user.lockedUntil > o.clock.now()) return fail('locked')
      return {
        kind: 'identity',
        identity: { credential: 'idp_token', name, roles, amr, credentialId: typeof payload.jti === 'string' ? payload.jti : '',
          expiresAt: (payload.exp as number) * 1000 }
      }
    }
  }
}
