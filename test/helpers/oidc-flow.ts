// The browser's part of a single sign-on, without a browser: GET /auth/oidc/login at the gateway,
// follow the IdP's redirects with a cookie jar (the test IdP logs in the user named in `x-test-user`),
// and stop at the redirect back to the gateway's callback. The callback is then called at the
// gateway's real address: the IdP redirects to the configured redirectUri, whose port the test
// gateway cannot know before it listens.
import { request } from 'undici'
import { call, type TestGateway } from './gateway.js'

export interface Started { stateCookie: string, authUrl: string }

function setCookies (headers: Record<string, string | string[] | undefined>): string[] {
  const h = headers['set-cookie']
  return h === undefined ? [] : Array.isArray(h) ? h : [h]
}

/** GET /auth/oidc/login: the state cookie (name=value) and the IdP URL it redirects to. */
export async function startSignIn (gw: TestGateway): Promise<Started> {
  const res = await call(gw, 'GET', '/auth/oidc/login', { anonymous: true })
  if (res.status !== 303) throw new Error(`login: ${res.status} ${res.text}`)
  const cookie = setCookies(res.headers).find((c) => c.startsWith('__Host-gatehouse-oidc='))
  if (cookie === undefined) throw new Error('no state cookie')
  return { stateCookie: cookie.split(';')[0] as string, authUrl: String(res.headers.location) }
}

/** Follows the IdP's redirects as `user` until one leaves the IdP: that is the callback URL. */
export async function authorizeAtIdp (authUrl: string, user: string): Promise<URL> {
  const jar = new Map<string, string>()
  let url = new URL(authUrl)
  const origin = url.origin
  for (let hops = 0; hops < 10; hops++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await request(url, { headers: { 'x-test-user': user, ...(cookie === '' ? {} : { cookie }) } })
    await res.body.text()
    for (const c of setCookies(res.headers)) {
      const [pair] = c.split(';')
      const i = (pair as string).indexOf('=')
      jar.set((pair as string).slice(0, i), (pair as string).slice(i + 1))
    }
    const location = res.headers.location
    if (res.statusCode < 300 || res.statusCode >= 400 || typeof location !== 'string') {
      throw new Error(`IdP answered ${res.statusCode} at ${url.pathname}`)
    }
    url = new URL(location, url)
    if (url.origin !== origin) return url
  }
  throw new Error('too many redirects at the IdP')
}

/** GET /auth/oidc/callback at the gateway with the callback's query and a state cookie. */
export async function callback (gw: TestGateway, callbackUrl: URL, stateCookie: string | null) {
  const res = await call(gw, 'GET', `/auth/oidc/callback${callbackUrl.search}`, {
    anonymous: true, headers: stateCookie === null ? {} : { cookie: stateCookie }
  })
  const session = setCookies(res.headers).find((c) => c.startsWith('__Host-gatehouse=') && !c.startsWith('__Host-gatehouse=;'))
  return { ...res, location: typeof res.headers.location === 'string' ? res.headers.location : null,
    sessionCookie: session === undefined ? null : (session.split(';')[0] as string) }
}

/** The whole sign-in of `user`. */
export async function signIn (gw: TestGateway, user: string) {
  const started = await startSignIn(gw)
  const back = await authorizeAtIdp(started.authUrl, user)
  return await callback(gw, back, started.stateCookie)
}
