// The relying party's I/O with the OpenID Provider, through openid-client: discovery (cached, and
// tried again after a failure), the authorization request (PKCE S256, state, nonce) and the code
// exchange, which checks the ID token's issuer, audience, signature, nonce and lifetime.
import * as oidc from 'openid-client'
import type { Clock } from '../../clock.js'

export interface OidcClientOptions {
  issuer: string
  clientId: string
  /** null: a public client (PKCE only) */
  clientSecret: string | null
  redirectUri: string
  scopes: readonly string[]
  clock: Clock
  /** seconds for each request to the IdP */
  timeoutSeconds?: number
}

/** What the browser's state cookie must carry to finish the flow it started. */
export interface PendingSignIn { state: string, nonce: string, verifier: string }

export interface OidcClient {
  /** the IdP's authorization URL for a fresh state, nonce and PKCE verifier */
  start: () => Promise<{ url: string, pending: PendingSignIn }>
  /** the callback URL as received → the verified ID token claims and the IdP's access token */
  finish: (callbackUrl: URL, pending: PendingSignIn) => Promise<{ claims: Record<string, unknown> }>
  /** the IdP's JWKS URI, for access tokens used as API credentials */
  jwksUri: () => Promise<string>
}

/** The IdP could not be reached or did not answer as a server should: a 502, nothing was decided. */
export class IdpUnreachable extends Error {}

const UNREACHABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON'])

/** Network failure, timeout or a non-OAuth answer (5xx, HTML) → IdpUnreachable; everything else is a refusal. */
function classifyIdpError (err: unknown): Error {
  if (err instanceof IdpUnreachable) return err
  if (err instanceof TypeError) return new IdpUnreachable('identity provider unreachable', { cause: err })
  if (err instanceof oidc.ClientError && err.code !== undefined && UNREACHABLE_CODES.has(err.code)) {
    return new IdpUnreachable('identity provider answered unexpectedly', { cause: err })
  }
  return err instanceof Error ? err : new Error(String(err))
}

export function createOidcClient (o: OidcClientOptions): OidcClient {
  const issuer = new URL(o.issuer)
  const insecure = issuer.protocol === 'http:'
  let discovered: Promise<oidc.Configuration> | null = null

  function configuration (): Promise<oidc.Configuration> {
    if (discovered === null) {
      const auth = o.clientSecret === null ? oidc.None() : oidc.ClientSecretBasic(o.clientSecret)
      const metadata: Partial<oidc.ClientMetadata> = {
        redirect_uris: [o.redirectUri],
        response_types: ['code'],
        // the Gatehouse clock decides what "now" is for the ID token's exp and iat
        [oidc.clockSkew]: Math.round((o.clock.now() - Date.now()) / 1000)
      }
      const p = oidc.discovery(issuer, o.clientId, metadata, auth, {
        timeout: o.timeoutSeconds ?? 10,
        // http only reaches a loopback issuer: the configuration refuses any other
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {})
      }).then((config) => {
        // the ID token's signature is checked against the IdP's JWKS even though it came over TLS
        oidc.enableNonRepudiationChecks(config)
        return config
      })
      discovered = p
      // a failed discovery is not remembered: the next sign-in tries again
      p.catch(() => { if (discovered === p) discovered = null })
    }
    return discovered
  }

  async function configured (): Promise<oidc.Configuration> {
    try {
      return await configuration()
    } catch (err) {
      throw classifyIdpError(err)
    }
  }

  return {
    async start () {
      const config = await configured()
      const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() }
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: o.redirectUri,
        scope: o.scopes.join(' '),
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256'
      })
      return { url: url.href, pending }
    },

    async finish (callbackUrl, pending) {
      const config = await configured()
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true
        })
        const claims = tokens.claims()
        if (claims === undefined) throw new Error('no ID token')
        return { claims: { ...claims } }
      } catch (err) {
        throw classifyIdpError(err)
      }
    },

    async jwksUri () {
      const uri = (await configured()).serverMetadata().jwks_uri
      if (uri === undefined) throw new IdpUnreachable('the identity provider publishes no jwks_uri')
      return uri
    }
  }
}
