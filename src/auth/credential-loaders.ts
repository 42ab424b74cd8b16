// Turns request credentials into an Identity: the Authorization header (bearer JWT, or an API key
// as Bearer or Basic) or, without one, the `__Host-gatehouse` cookie. Fastify-free: it sees header
// values only.
import type { Identity } from './identity.js'
import type { AuthDeps } from './deps.js'
import { apiKeyStatus, hashApiKey, isWellFormedApiKey, looksLikeApiKey } from './api-keys.js'
import { mfaRequired, mfaSatisfied } from './mfa-policy.js'
import { SESSION_COOKIE, readCookie } from './cookies.js'
import type { IdpTokenLoader } from './oidc/access-tokens.js'

export interface CredentialInput { authorization: string | undefined, cookie: string | undefined }
export interface ChainOptions { allowApiKeys: boolean }

export type LoadResult =
  | { kind: 'identity', identity: Identity }
  | { kind: 'missing' }
  | { kind: 'invalid', credential: Identity['credential'], reason: string, key?: { id: string, name: string } }

/** touches (lastSeenAt / lastUsedAt) are written at most this often per credential */
const TOUCH_INTERVAL_MS = 5_000

type Deps = Pick<AuthDeps, 'store' | 'tokens' | 'clock' | 'config'>


/**
 * Everything a session token must pass on every request: signature, revocation, lifetime, idleness,
 * epoch. Revocation is the store's: logout and admin revocation set revokedAt; disable, role change,
 * MFA reset and password change bump the user's epoch. Both rows are read on every request, in one read.
 */
async function validateSessionToken (deps: Deps, token: string): Promise<LoadResult> {
  const fail = (reason: string): LoadResult => ({ kind: 'invalid', credential: 'session', reason })
  const v = await deps.tokens.verifyAccess(token)
  if (!v.ok) return fail(v.reason)
  const c = v.claims
  const now = deps.clock.now()
  const found = await deps.store.getSessionWithUser(c.jti)
  if (found === null || found.session.username !== c.sub) return fail('unknown_session')
  const { session, user } = found
  if (session.revokedAt !== null) return fail('session_revoked')
  if (session.expiresAt <= now) return fail('session_expired')
  if (session.lastSeenAt + deps.config.auth.idleTimeoutSeconds * 1000 <= now) {
    await deps.store.revokeSession(c.jti, now)
    return fail('session_idle')
  }
  if (user === null) return fail('user_not_found')
  if (user.status !== 'active') return fail('user_disabled')
  if (user.sessionEpoch !== c.sep) return fail('session_epoch_changed')
  // a session issued before MFA became required for this role is not enough any more; a one-time
  // password's session is exempt: it can do nothing but choose a new password (then MFA follows)
  if (!user.passwordMustChange && mfaRequired(user.roles, deps.config.auth.mfa.requiredForRoles) && !mfaSatisfied(c.amr)) {
    return fail('mfa_required')
  }
  if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) await deps.store.touchSession(c.jti, now)
  return {
    kind: 'identity',
    identity: { credential: 'session', name: user.username, roles: [...user.roles], amr: [...c.amr], credentialId: c.jti,
      expiresAt: session.expiresAt, ...(user.passwordMustChange ? { passwordChangeRequired: true } : {}) }
  }
}

async function validateApiKey (deps: Deps, key: string): Promise<LoadResult> {
  const fail = (reason: string): LoadResult => ({ kind: 'invalid', credential: 'api_key', reason })
  if (!isWellFormedApiKey(key)) return fail('malformed_key')
  const rec = await deps.store.getApiKeyByHash(hashApiKey(key))
  if (rec === null) return fail('unknown_key')
  const now = deps.clock.now()
  const status = apiKeyStatus(rec, now)
  // a key found but retired: its id and name go into the audit event (someone still holds it)
  if (status !== 'active') return { kind: 'invalid', credential: 'api_key', reason: `key_${status}`, key: { id: rec.id, name: rec.name } }
  if (rec.lastUsedAt === null || now - rec.lastUsedAt >= TOUCH_INTERVAL_MS) await deps.store.touchApiKey(rec.id, now)
  return {
    kind: 'identity',
    identity: { credential: 'api_key', name: rec.name, roles: [rec.role], amr: [], credentialId: rec.id, expiresAt: rec.expiresAt }
  }
}

/** `Bearer <x>` → x, or null for another scheme. The scheme is case-insensitive (RFC 7235). */
function credentialsOf (header: string, scheme: string): string | null {
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header)
  return m !== null && (m[1] as string).toLowerCase() === scheme ? (m[2] as string) : null
}

/** The API key inside `Basic base64(anything:ghk_…)`, or null when the header is not Basic. */
function basicApiKey (header: string): string | null | undefined {
  const b64 = credentialsOf(header, 'basic')
  if (b64 === null) return null
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined
  const decoded = Buffer.from(b64, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i < 0 ? undefined : decoded.slice(i + 1)
}

/**
 * Request credentials → identity, straight-line. With an Authorization header, it alone decides:
 * `Bearer <jwt>` is the IdP's access token when it names the IdP as issuer (and those are accepted),
 * else a session; `Bearer ghk_…` or `Basic base64(x:ghk_…)` an API key; anything else
 * invalid. Without one, the `__Host-gatehouse` cookie is a session, and no cookie is "missing".
 */
export function createCredentialChain (
  deps: Deps, loaders: { idpTokens?: IdpTokenLoader } = {}
): (input: CredentialInput, options: ChainOptions) => Promise<LoadResult> {
  const idp = loaders.idpTokens
  return async (input, options) => {
    if (input.authorization === undefined) {
      const token = readCookie(input.cookie, SESSION_COOKIE)
      return token === null ? { kind: 'missing' } : validateSessionToken(deps, token)
    }
    const bearer = credentialsOf(input.authorization, 'bearer')
    // a JWT from the single sign-on IdP (acceptAccessTokens): like an API key, never a session (e.g. /admin/*)
    if (bearer !== null && idp !== undefined && idp.claims(bearer)) {
      return options.allowApiKeys ? idp.load(bearer) : { kind: 'invalid', credential: 'idp_token', reason: 'idp_token_not_allowed' }
    }
    if (bearer !== null && !looksLikeApiKey(bearer)) return validateSessionToken(deps, bearer)
    const key = bearer ?? basicApiKey(input.authorization)
    if (key === null) return { kind: 'invalid', credential: 'session', reason: 'unsupported_scheme' }
    if (key === undefined) return { kind: 'invalid', credential: 'api_key', reason: 'malformed_basic' }
    if (!looksLikeApiKey(key)) return { kind: 'invalid', credential: 'api_key', reason: 'basic_not_api_key' }
    // refused before any lookup: an API key is never a credential here (e.g. /admin/*)
    if (!options.allowApiKeys) return { kind: 'invalid', credential: 'api_key', reason: 'api_key_not_allowed' }
    return validateApiKey(deps, key)
  }
}
