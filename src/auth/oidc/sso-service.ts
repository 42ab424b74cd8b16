// Single sign-on as business logic: start a sign-in (sealed state cookie), and finish it at the
// callback: state single-use and bound to the browser, code exchange and ID token checks (client.ts),
// account and roles from the claims, then the same second step and session as a password login.
// No Fastify here; routes.ts adapts it to HTTP.
import { createHash } from 'node:crypto'
import { errors } from '../../errors.js'
import type { GatehouseConfig } from '../../config/schema.js'
import type { UserRecord } from '../../store/types.js'
import type { AuthDeps } from '../deps.js'
import type { ExternalSignIn, LoginResult, RequestInfo } from '../auth-service.js'
import { readCookie } from '../cookies.js'
import { IdpUnreachable, type OidcClient } from './client.js'
import { groupsFromClaims, idpDidMfa, rolesFromGroups, sealState, unsealState, usernameFromClaims } from './claims.js'

/** The cookie that binds a sign-in in flight to the browser that started it. */
const STATE_COOKIE = '__Host-gatehouse-oidc'
/** how long a sign-in may take at the IdP */
const STATE_TTL_SECONDS = 300

function stateCookie (value: string): string {
  // Lax: the IdP's redirect back is a top-level cross-site GET, which Strict would strip the cookie from
  return `${STATE_COOKIE}=${value}; Max-Age=${STATE_TTL_SECONDS}; Path=/; HttpOnly; Secure; SameSite=Lax`
}

export function clearedStateCookie (): string {
  return `${STATE_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`
}

export interface SsoService {
  /** the IdP's authorization URL and the state cookie to set */
  start: (req: RequestInfo) => Promise<{ location: string, cookie: string }>
  /** `search`: the callback's query string as received */
  callback: (search: string, cookieHeader: string | undefined, req: RequestInfo) => Promise<LoginResult>
}

export interface SsoDeps extends Pick<AuthDeps, 'store' | 'sharedState' | 'clock' | 'audit' | 'secretBox'> {
  oidc: GatehouseConfig['auth']['oidc']
  client: OidcClient
  external: ExternalSignIn
}

/** The audit reason of an exchange that openid-client refused (bounded, machine-readable). */
function refusalReason (err: unknown): string {
  const code = (err as { code?: unknown }).code
  switch (code) {
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED': return 'id_token_expired'
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED': return 'id_token_claim_mismatch'
    case 'OAUTH_KEY_SELECTION_FAILED': return 'id_token_unknown_key'
    case 'OAUTH_RESPONSE_BODY_ERROR': return 'code_rejected'
    case 'OAUTH_AUTHORIZATION_RESPONSE_ERROR': return 'idp_error'
    default: return 'id_token_invalid'
  }
}

const stateKey = (state: string) => `auth:oidc-state:${createHash('sha256').update(state).digest('base64url')}`

export function createSsoService (d: SsoDeps): SsoService {
  const actor = (req: RequestInfo, userName?: string) =>
    ({ sourceIp: req.sourceIp, requestId: req.requestId, ...(userName === undefined ? {} : { userName }) })

  const unreachable = (req: RequestInfo): never => {
    // not the user's failure: nothing is counted, nothing was created
    d.audit({ action: 'login', outcome: 'failure', ...actor(req), provider: 'oidc', reason: 'idp_unreachable' })
    throw new errors.SSO_IDP_UNAVAILABLE()
  }

  /** Creates the SSO account, or brings an existing one's roles in line with the IdP's groups. */
  async function upsertUser (existing: UserRecord | null, username: string, roles: string[], req: RequestInfo): Promise<UserRecord | null> {
    const now = d.clock.now()
    if (existing === null) {
      try {
        const user = await d.store.createUser({ username, roles, passwordHash: '', source: 'oidc' }, now)
        d.audit({ action: 'user-created', outcome: 'success', ...actor(req, username), provider: 'oidc',
          target: { userName: username, role: roles.join(',') } })
        return user
      } catch (err) {
        if (err instanceof errors.CONFLICT) return null // created in parallel: the caller reads it again
        throw err
      }
    }
    if (existing.roles.length === roles.length && existing.roles.every((r, i) => r === roles[i])) return existing
    // roles follow the IdP at every sign-in; older sessions carried the old roles, so they end
    const updated = await d.store.updateUser(username, { roles, bumpEpoch: true }, now)
    d.audit({ action: 'role-changed', outcome: 'success', ...actor(req, username), provider: 'oidc',
      target: { userName: username, role: roles.join(',') } })
    return updated
  }

  return {
    async start (req) {
      let started
      try {
        started = await d.client.start()
      } catch (err) {
        if (err instanceof IdpUnreachable) return unreachable(req)
        throw err
      }
      const sealed = sealState(d.secretBox, { ...started.pending, expiresAt: d.clock.now() + STATE_TTL_SECONDS * 1000 })
      return { location: started.url, cookie: stateCookie(sealed) }
    },

    async callback (search, cookieHeader, req) {
      await d.external.checkIpThrottle(req)
      const refuse = async (reason: string, username?: string): Promise<never> => {
        await d.external.fail(req, reason, username)
        throw new errors.SSO_REFUSED()
      }
      const params = new URLSearchParams(search)
      const sealed = readCookie(cookieHeader, STATE_COOKIE)
      if (sealed === null) return refuse('state_missing')
      const pending = unsealState(d.secretBox, sealed)
      if (pending === null) return refuse('state_invalid')
      const now = d.clock.now()
      if (pending.expiresAt <= now) return refuse('state_expired')
      if (params.get('state') !== pending.state) return refuse('state_mismatch')
      // single use, across replicas: the first callback with this state takes it
      const { count } = await d.sharedState.hit(stateKey(pending.state), STATE_TTL_SECONDS * 1000, now)
      if (count !== 1) return refuse('state_replayed')
      if (params.has('error')) return refuse('idp_error')

      const callbackUrl = new URL(d.oidc.redirectUri as string)
      callbackUrl.search = search
      let claims: Record<string, unknown>
      try {
        claims = (await d.client.finish(callbackUrl, pending)).claims
      } catch (err) {
        if (err instanceof IdpUnreachable) return unreachable(req)
        return refuse(refusalReason(err))
      }

      const username = usernameFromClaims(claims, d.oidc.usernameClaim)
      if (username === null) return refuse('username_claim_unusable')
      if (await d.external.lockRemaining(username) > 0) {
        // an active lock is not counted again, as for passwords
        await d.external.fail(req, 'locked', username, false)
        throw new errors.SSO_REFUSED()
      }
      const roles = rolesFromGroups(groupsFromClaims(claims, d.oidc.groupsClaim), d.oidc.roleMapping)
      if (roles.length === 0) {
        d.audit({ action: 'access-denied', outcome: 'failure', ...actor(req, username), provider: 'oidc', reason: 'no_mapped_group' })
        await d.external.fail(req, 'no_mapped_group', username)
        throw new errors.SSO_NO_ROLE()
      }
      let existing = await d.store.getUser(username)
      let user: UserRecord | null = null
      for (let attempt = 0; attempt < 2 && user === null; attempt++) {
        // a local account of the same name is never taken over by the IdP
        if (existing?.source === 'local') return refuse('local_account_exists', username)
        if (existing?.status === 'disabled') return refuse('disabled', username)
        user = await upsertUser(existing, username, roles, req)
        if (user === null) existing = await d.store.getUser(username)
      }
      if (user === null) return refuse('account_conflict', username)
      const mfaDone = idpDidMfa(claims, d.oidc.mfaFromIdp)
      // `fed`: federated sign-in (RFC 8176); `mfa`: the IdP did MFA with a method mfaFromIdp accepts
      return d.external.complete(user, mfaDone ? ['fed', 'mfa'] : ['fed'], mfaDone, req)
    }
  }
}
