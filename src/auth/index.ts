// The auth module assembled from its parts, for the app to wire in one place:
//   const auth = createAuth({ config, store, sharedState, secrets, clock, audit })
//   plugins: [auth.routes]                      (/auth/login, /auth/mfa, /auth/logout, /auth/me)
//   headerGuards: [auth.authenticate]           (proxied routes: sessions and API keys, from the headers)
//   admin:   auth.authenticateSessionOnly        (/admin/*: API keys are never accepted there)
import type { FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify'
import type { KeyObject } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { Store } from '../store/types.js'
import type { AuthAudit, AuthSharedState } from './deps.js'
import { createPasswordHasher, type PasswordHasher } from './passwords.js'
import { createSecretBox } from './totp.js'
import { createTokenService, type TokenService } from './tokens.js'
import { createCredentialChain, type ChainOptions, type CredentialInput, type LoadResult } from './credential-loaders.js'
import { createAuthenticate } from './authenticate.js'
import { createUnauthenticatedThrottle } from './unauthenticated-throttle.js'
import { createAuthService, type AuthService } from './auth-service.js'
import { authRoutes } from './routes.js'
import { createUserAdmin, type UserAdmin } from './user-admin.js'
import { ensureBootstrapAdmin } from './bootstrap.js'
import { createOidcClient, type OidcClient } from './oidc/client.js'
import { createSsoService } from './oidc/sso-service.js'
import { oidcRoutes } from './oidc/routes.js'
import { createIdpTokenLoader } from './oidc/access-tokens.js'

export interface CreateAuthOptions {
  config: Pick<GatehouseConfig, 'auth' | 'rbac'>
  store: Store
  sharedState: AuthSharedState
  /** Secrets.jwt (Ed25519 or P-256) and Secrets.totpKey from src/config/secrets.ts */
  signingKey: { privateKey: KeyObject, publicKey: KeyObject, kid: string }
  totpKey: Buffer
  clock: Clock
  audit: AuthAudit
  /** defaults to argon2id with OWASP parameters */
  passwords?: PasswordHasher
  /** Secrets.oidcClientSecret (null: a public client); read only when auth.oidc.enabled */
  oidcClientSecret?: string | null
}

export interface Auth {
  service: AuthService
  tokens: TokenService
  userAdmin: UserAdmin
  chain: (input: CredentialInput, options: ChainOptions) => Promise<LoadResult>
  /** sessions and API keys: for proxied routes */
  authenticate: preHandlerAsyncHookHandler
  /** sessions only: for /admin/* */
  authenticateSessionOnly: preHandlerAsyncHookHandler
  /** the /auth/* routes, ready for buildApp's `plugins` */
  routes: FastifyPluginAsync
  /**
   * creates `admin` when the store has no users; `write` gets each line of the one-time notice,
   * which names the command line as `cli` (default `gatehouse`)
   */
  ensureBootstrapAdmin: (write: (line: string) => void, cli?: string) => Promise<{ created: boolean }>
}

export function createAuth (o: CreateAuthOptions): Auth {
  const tokens = createTokenService({
    privateKey: o.signingKey.privateKey, publicKey: o.signingKey.publicKey, kid: o.signingKey.kid,
    issuer: o.config.auth.jwt.issuer, audience: o.config.auth.jwt.audience, clock: o.clock
  })
  const passwords = o.passwords ?? createPasswordHasher()
  const deps = {
    store: o.store, sharedState: o.sharedState, tokens, passwords, secretBox: createSecretBox(o.totpKey),
    clock: o.clock, audit: o.audit, config: o.config
  }
  const oidc = o.config.auth.oidc
  const oidcClient: OidcClient | null = oidc.enabled
    ? createOidcClient({ issuer: oidc.issuer as string, clientId: oidc.clientId as string, clientSecret: o.oidcClientSecret ?? null,
      redirectUri: oidc.redirectUri as string, scopes: oidc.scopes, clock: o.clock })
    : null
  const idpTokens = oidcClient !== null && oidc.acceptAccessTokens.enabled
    ? createIdpTokenLoader({
      oidc, mfaRequiredForRoles: o.config.auth.mfa.requiredForRoles, jwksUri: () => oidcClient.jwksUri(), store: o.store, clock: o.clock })
    : undefined
  const chain = createCredentialChain(deps, { idpTokens })
  const service = createAuthService(deps)
  const sso = oidcClient === null
    ? null
    : createSsoService({ ...deps, oidc, client: oidcClient, external: service.external })
  const userAdmin = createUserAdmin(deps)
  const throttle = createUnauthenticatedThrottle({
    sharedState: o.sharedState, clock: o.clock, perIpMaxPerMinute: o.config.auth.unauthenticated.perIpMaxPerMinute
  })
  const authenticate = createAuthenticate({ chain, audit: o.audit, throttle }, { allowApiKeys: true })
  const authenticateSessionOnly = createAuthenticate({ chain, audit: o.audit, throttle }, { allowApiKeys: false })
  return {
    service, tokens, userAdmin, chain, authenticate, authenticateSessionOnly,
    routes: authRoutes({ service, authenticateSession: authenticateSessionOnly, authenticateAny: authenticate,
      extra: sso === null ? [] : [oidcRoutes(sso)], sso: sso !== null }),
    ensureBootstrapAdmin: (write, cli) => ensureBootstrapAdmin(deps, userAdmin, write, {}, cli)
  }
}
