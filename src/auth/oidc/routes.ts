// /auth/oidc/* over HTTP: a thin adapter from Fastify to the SsoService. Registered with the other
// /auth routes when auth.oidc.enabled; errors are thrown and rendered by the app's one error handler,
// except for a browser (Accept: text/html), which a failed sign-in leaves on a short page saying why.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { RequestInfo } from '../auth-service.js'
import { isGatehouseError } from '../../errors.js'
import { sessionCookie } from '../cookies.js'
import { clearedStateCookie, type SsoService } from './sso-service.js'

/** Where a browser lands once signed in. */
const AFTER_SIGN_IN = '/console/'

const info = (request: FastifyRequest): RequestInfo => ({ sourceIp: request.gh.sourceIp, requestId: request.gh.id })

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

const wantsPage = (request: FastifyRequest): boolean => /\btext\/html\b/.test(request.headers.accept ?? '')

/**
 * A sign-in that failed, for a person in a browser: the status and the error's own message on a page
 * with no script, style or outside reference, and a way back to the sign-in page. Anything that is not
 * one of Gatehouse's errors says only "internal error", as the JSON reply would.
 */
function failedSignInPage (reply: FastifyReply, err: unknown): FastifyReply {
  const status = isGatehouseError(err) ? err.statusCode : 500
  const message = isGatehouseError(err) ? err.message : 'internal error'
  return reply.code(status)
    .headers({
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store'
    })
    .type('text/html; charset=utf-8')
    .send('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · Gatehouse</title></head>' +
      `<body><h1>Sign-in failed</h1><p>${escapeHtml(message)}</p>` +
      `<p><a href="${AFTER_SIGN_IN}">Back to the sign-in page</a></p></body></html>`)
}

export function oidcRoutes (sso: SsoService): FastifyPluginAsync {
  return async function oidcRoutesPlugin (app) {
    app.get('/auth/oidc/login', async (request, reply) => {
      try {
        const { location, cookie } = await sso.start(info(request))
        reply.header('set-cookie', cookie)
        return reply.redirect(location, 303)
      } catch (err) {
        if (wantsPage(request)) return failedSignInPage(reply, err)
        throw err
      }
    })

    app.get('/auth/oidc/callback', async (request, reply: FastifyReply) => {
      // the state cookie is spent whatever happens next
      reply.header('set-cookie', clearedStateCookie())
      const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''
      try {
        const result = await sso.callback(search, request.headers.cookie, info(request))
        if (result.status === 'ok') {
          reply.header('set-cookie', sessionCookie(result.access_token, result.expires_in))
          return reply.redirect(AFTER_SIGN_IN, 303)
        }
        // the TOTP step follows in the console; a fragment never reaches a server or its logs
        const fragment = new URLSearchParams({ status: result.status, mfa_token: result.mfa_token,
          ...(result.status === 'mfa_enrollment_required' ? { otpauth_url: result.otpauth_url } : {}) })
        return reply.redirect(`${AFTER_SIGN_IN}#${fragment.toString()}`, 303)
      } catch (err) {
        const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds
        if (typeof retry === 'number') reply.header('retry-after', String(retry))
        if (wantsPage(request)) return failedSignInPage(reply, err)
        throw err
      }
    })
  }
}
