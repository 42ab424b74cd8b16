// /auth/* over HTTP: a thin adapter from Fastify to the AuthService. Registered at the root by the
// app (buildApp's `plugins`); errors are thrown and rendered by the app's one error handler.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import type { AuthService, RequestInfo } from './auth-service.js'
import { clearedSessionCookie, sessionCookie } from './cookies.js'
import { strictRouteSchemas } from '../config/validation.js'
import { LoginBody, MfaBody, PasswordBody } from './schemas.js'

export interface AuthRoutesOptions {
  service: AuthService
  /** createAuthenticate(…, { allowApiKeys: false }): logout ends sessions only (run from the headers, onRequest) */
  authenticateSession: onRequestAsyncHookHandler
  /** createAuthenticate(…, { allowApiKeys: true }): /auth/me also answers for API keys */
  authenticateAny: onRequestAsyncHookHandler
  /** more /auth/* routes registered in the same context (single sign-on) */
  extra?: FastifyPluginAsync[]
  /** whether single sign-on is on (GET /auth/methods tells a sign-in page which buttons to show) */
  sso?: boolean
}

const info = (request: FastifyRequest): RequestInfo => ({ sourceIp: request.gh.sourceIp, requestId: request.gh.id })

async function withRetryAfter<T> (reply: FastifyReply, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds
    if (typeof retry === 'number') reply.header('retry-after', String(retry))
    throw err
  }
}

/** Build the plugin with its dependencies bound, for buildApp's `plugins` list. */
export function authRoutes (o: AuthRoutesOptions): FastifyPluginAsync {
  return async function authRoutesPlugin (app) {
    strictRouteSchemas(app)
    app.addHook('onSend', async (_request, reply, payload) => {
      // credentials and MFA secrets must never sit in a shared cache
      reply.header('cache-control', 'no-store')
      return payload
    })

    app.post<{ Body: LoginBody }>('/auth/login', { schema: { body: LoginBody } }, async (request, reply) => {
      const result = await withRetryAfter(reply, () => o.service.login(request.body, info(request)))
      if (result.status === 'ok') reply.header('set-cookie', sessionCookie(result.access_token, result.expires_in))
      return result
    })

    app.post<{ Body: MfaBody }>('/auth/mfa', { schema: { body: MfaBody } }, async (request, reply) => {
      const result = await withRetryAfter(reply, () => o.service.verifyMfa(request.body, info(request)))
      reply.header('set-cookie', sessionCookie(result.access_token, result.expires_in))
      return result
    })

    app.post('/auth/logout', { onRequest: o.authenticateSession }, async (request, reply) => {
      const identity = request.gh.identity
      if (identity === null) throw new errors.AUTH_REQUIRED()
      await o.service.logout(identity, info(request))
      reply.header('set-cookie', clearedSessionCookie())
      return reply.code(204).send()
    })

    app.post<{ Body: PasswordBody }>('/auth/password', { schema: { body: PasswordBody }, onRequest: o.authenticateSession },
      async (request, reply) => {
        const identity = request.gh.identity
        if (identity === null) throw new errors.AUTH_REQUIRED()
        const result = await withRetryAfter(reply, () => o.service.changePassword(identity, request.body, info(request)))
        // every earlier session is over; the cookie carries the new one, or none until MFA enrollment
        reply.header('set-cookie', result.status === 'ok' ? sessionCookie(result.access_token, result.expires_in) : clearedSessionCookie())
        return result
      })

    app.get('/auth/sessions', { onRequest: o.authenticateSession }, async (request) => {
      const identity = request.gh.identity
      if (identity === null) throw new errors.AUTH_REQUIRED()
      return { sessions: await o.service.ownSessions(identity) }
    })

    app.post('/auth/logout-everywhere', { onRequest: o.authenticateSession }, async (request, reply) => {
      const identity = request.gh.identity
      if (identity === null) throw new errors.AUTH_REQUIRED()
      await o.service.logoutEverywhere(identity, info(request))
      reply.header('set-cookie', clearedSessionCookie())
      return reply.code(204).send()
    })

    app.get('/auth/me', { onRequest: o.authenticateAny }, async (request) => {
      const identity = request.gh.identity
      if (identity === null) throw new errors.AUTH_REQUIRED()
      return o.service.me(identity)
    })

    // public: how one may sign in here (the console shows its single sign-on button from it)
    app.get('/auth/methods', async () => ({ password: true, sso: o.sso === true }))

    for (const plugin of o.extra ?? []) await app.register(plugin)
  }
}
