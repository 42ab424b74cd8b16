// /auth/oidc/* over HTTP: a thin adapter from Fastify to the SsoService. Registered with the other
// /auth routes when auth.oidc.enabled; errors are thrown and rendered by the app's one error handler.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { RequestInfo } from '../auth-service.js'
import { sessionCookie } from '../cookies.js'
import { clearedStateCookie, type SsoService } from './sso-service.js'

/** Where a browser lands once signed in. */
export const AFTER_SIGN_IN = '/console/'

const info = (request: FastifyRequest): RequestInfo => ({ sourceIp: request.gh.sourceIp, requestId: request.gh.id })

export function oidcRoutes (sso: SsoService): FastifyPluginAsync {
  return async function oidcRoutesPlugin (app) {
    app.get('/auth/oidc/login', async (request, reply) => {
      const { location, cookie } = await sso.start(info(request))
      reply.header('set-cookie', cookie)
      return reply.redirect(location, 303)
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
        throw err
      }
    })
  }
}
