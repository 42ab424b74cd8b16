// A real OpenID Provider for tests: panva's `oidc-provider` on 127.0.0.1 (http: Gatehouse accepts an
// http issuer on loopback only). It knows one confidential client (`gatehouse`) and the users of
// `users`, each with groups and an `amr`.
//
// Sign-in without a browser: the provider's interaction page is replaced by a middleware that logs
// in the user named in the `x-test-user` request header and grants the requested scopes at once, so
// a test follows the redirects with a cookie jar (signIn in oidc-flow.ts) and never posts a form.
//
// To play a misbehaving IdP, a test sets `tamperIdToken`: the token endpoint's ID token is then
// decoded, changed by the function and signed again, with the IdP's key or another (see resign).
// `jwksOverride` replaces the published JWKS (key rotation).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import Provider from 'oidc-provider'
import { SignJWT, decodeJwt, exportJWK, type JWK } from 'jose'

export interface IdpUser { groups: string[], amr: string[], name?: string }

export interface TestIdp {
  issuer: string
  clientId: string
  clientSecret: string
  /** the redirect URI the client is registered with (the gateway's callback as configured) */
  redirectUri: string
  users: Map<string, IdpUser>
  /** the IdP's signing key and its kid */
  key: { privateKey: KeyObject, kid: string, jwk: JWK }
  tamperIdToken: ((claims: Record<string, unknown>) => Promise<string> | string) | null
  jwksOverride: { keys: JWK[] } | null
  /** stops answering (connections refused from now on) */
  stop: () => Promise<void>
}

export async function newSigningKey (kid: string): Promise<{ privateKey: KeyObject, kid: string, jwk: JWK }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }
  void publicKey
  return { privateKey, kid, jwk }
}

/** The public half of a private JWK, as a JWKS publishes it. */
export function publicJwk (jwk: JWK): JWK {
  const { d, p, q, dp, dq, qi, ...pub } = jwk
  void d; void p; void q; void dp; void dq; void qi
  return pub
}

/** Signs `claims` as a JWT with `key` (RS256, its kid), as the IdP or an impostor would. */
export async function signJwt (claims: Record<string, unknown>, key: { privateKey: KeyObject, kid: string }): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey)
}

export async function startTestIdp (o: { redirectUri: string, users: Record<string, IdpUser> }): Promise<TestIdp> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const key = await newSigningKey('idp-key-1')
  const users = new Map(Object.entries(o.users))
  const idp: TestIdp = {
    issuer, clientId: 'gatehouse', clientSecret: 'test-client-secret-0123456789', redirectUri: o.redirectUri, users, key,
    tamperIdToken: null, jwksOverride: null,
    stop: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }

  const provider = new Provider(issuer, {
    clients: [{
      client_id: idp.clientId, client_secret: idp.clientSecret, redirect_uris: [o.redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic'
    }],
    jwks: { keys: [key.jwk] },
    cookies: { keys: ['test-idp-cookie-key'] },
    // amr in a scope the client asks for: oidc-provider then puts the login's amr into the ID token
    claims: { openid: ['sub', 'amr'], profile: ['preferred_username', 'name', 'groups'], email: ['email'] },
    // the groups of the profile scope go into the ID token itself, as Keycloak and Entra do
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount (_ctx, sub) {
      const u = users.get(sub)
      if (u === undefined) return undefined
      return { accountId: sub, claims: async () => ({ sub, preferred_username: u.name ?? sub, groups: u.groups, email: `${sub}@example.test` }) }
    }
  })

  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res)
      const name = ctx.get('x-test-user')
      const user = users.get(name)
      if (user === undefined) { ctx.status = 403; ctx.body = 'unknown test user'; return }
      const grant = new provider.Grant({ accountId: name, clientId: String(details.params.client_id) })
      grant.addOIDCScope(String(details.params.scope))
      const grantId = await grant.save()
      const to = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: name, amr: user.amr }, consent: { grantId } },
        { mergeWithLastSubmission: false })
      ctx.status = 303
      ctx.redirect(to)
      return
    }
    if (ctx.path === '/jwks' && idp.jwksOverride !== null) { ctx.body = idp.jwksOverride; return }
    await next()
    const body = ctx.body as { id_token?: unknown } | undefined
    if (ctx.path === '/token' && idp.tamperIdToken !== null && typeof body?.id_token === 'string') {
      const claims = decodeJwt(body.id_token) as Record<string, unknown>
      ctx.body = { ...body, id_token: await idp.tamperIdToken(claims) }
    }
  })
  server.on('request', provider.callback())
  return idp
}
