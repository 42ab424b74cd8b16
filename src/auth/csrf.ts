// Cross-site request forgery on cookie-authenticated requests. On the control routes (/auth/*, /admin/*) every
// state-changing request must say `Content-Type: application/json` — a type no cross-site form or
// simple request can send without a CORS preflight, which Gatehouse never grants — and a request
// that rides on the session cookie must come from the gateway's own origin. Bearer requests carry
// no ambient credential, so the origin check does not apply to them.
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'
import { SESSION_COOKIE, readCookie } from './cookies.js'

export interface CsrfInput {
  method: string
  contentType: string | undefined
  /** an Authorization header is present: the cookie is then ignored by the credential chain */
  hasAuthorization: boolean
  hasSessionCookie: boolean
  origin: string | undefined
  secFetchSite: string | undefined
  host: string | undefined
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export const isJsonMediaType = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json'

/**
 * Pure: 'ok', or why the request is refused. The gateway's own origin is `https://<Host>`;
 * `allowedOrigins` adds others (a console served elsewhere, a TLS-terminating proxy that rewrites Host).
 * Without Origin, `Sec-Fetch-Site` must say same-origin; a client that sends neither is not a browser.
 */
export function csrfVerdict (input: CsrfInput, allowedOrigins: readonly string[]): 'ok' | 'media-type' | 'cross-site' {
  if (SAFE_METHODS.has(input.method)) return 'ok'
  if (!isJsonMediaType(input.contentType)) return 'media-type'
  return cookieFromElsewhere(input, allowedOrigins) ? 'cross-site' : 'ok'
}

/**
 * The proxied Ollama API takes any content type (blob uploads, clients that omit it), so only the
 * origin rule applies there: a state-changing request that rides on the session cookie must come
 * from the gateway's own origin. A simple cross-site `text/plain` POST would otherwise pull, create
 * or copy models with an admin's session.
 */
function proxyCsrfVerdict (input: CsrfInput, allowedOrigins: readonly string[]): 'ok' | 'cross-site' {
  if (SAFE_METHODS.has(input.method)) return 'ok'
  return cookieFromElsewhere(input, allowedOrigins) ? 'cross-site' : 'ok'
}

/** A request whose credential is the session cookie, sent from a page of another origin. */
function cookieFromElsewhere (input: CsrfInput, allowedOrigins: readonly string[]): boolean {
  if (input.hasAuthorization || !input.hasSessionCookie) return false
  if (input.origin !== undefined) {
    const origin = input.origin.toLowerCase()
    const own = input.host === undefined ? null : `https://${input.host.toLowerCase()}`
    return !(origin === own || allowedOrigins.some((o) => o.toLowerCase() === origin))
  }
  if (input.secFetchSite !== undefined) return input.secFetchSite.toLowerCase() !== 'same-origin'
  return false
}

const one = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v

const inputOf = (request: FastifyRequest): CsrfInput => {
  const h = request.headers
  return {
    method: request.method,
    contentType: one(h['content-type']),
    hasAuthorization: h.authorization !== undefined,
    hasSessionCookie: readCookie(one(h.cookie), SESSION_COOKIE) !== null,
    origin: one(h.origin),
    secFetchSite: one(h['sec-fetch-site']),
    host: one(h.host)
  }
}

/** An onRequest hook: runs from the headers, before the body is read or the credential is checked. */
export function createCsrfGuard (allowedOrigins: readonly string[]) {
  return async function csrfGuard (request: FastifyRequest): Promise<void> {
    const verdict = csrfVerdict(inputOf(request), allowedOrigins)
    if (verdict === 'media-type') {
      request.gh.reason = 'csrf:media-type'
      throw new errors.UNSUPPORTED_MEDIA_TYPE()
    }
    if (verdict === 'cross-site') {
      request.gh.reason = 'csrf:origin'
      throw new errors.CROSS_SITE()
    }
  }
}

/** The proxied routes' header guard (before authentication): the origin rule for cookie requests. */
export function createProxyCsrfGuard (allowedOrigins: readonly string[]) {
  return async function proxyCsrfGuard (request: FastifyRequest): Promise<void> {
    // every proxied request passes here: reads need nothing built or checked
    if (SAFE_METHODS.has(request.method)) return
    if (proxyCsrfVerdict(inputOf(request), allowedOrigins) === 'cross-site') {
      request.gh.reason = 'csrf:origin'
      throw new errors.CROSS_SITE()
    }
  }
}
