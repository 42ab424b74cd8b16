// The Fastify preHandler that runs the credential chain: it sets request.gh.identity, or answers
// 401 with `WWW-Authenticate: Bearer` (through the app's error handler, in the route's shape) —
// 429 with Retry-After once the source has sent too many requests without valid credentials.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import type { AuthAudit } from './deps.js'
import type { ChainOptions, CredentialInput, LoadResult } from './credential-loaders.js'
import type { UnauthenticatedThrottle } from './unauthenticated-throttle.js'

export interface AuthenticateDeps {
  chain: (input: CredentialInput, options: ChainOptions) => Promise<LoadResult>
  audit: AuthAudit
  throttle?: UnauthenticatedThrottle
}

/** all a session opened with a one-time password may reach */
const PASSWORD_CHANGE_PATHS: ReadonlySet<string> = new Set(['/auth/password', '/auth/me', '/auth/logout'])

const header = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v

export function createAuthenticate (deps: AuthenticateDeps, options: ChainOptions): preHandlerAsyncHookHandler {
  return async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const r = await deps.chain({ authorization: header(request.headers.authorization), cookie: header(request.headers.cookie) }, options)
    if (r.kind === 'identity') {
      request.gh.identity = r.identity
      if (r.identity.passwordChangeRequired === true && !PASSWORD_CHANGE_PATHS.has(request.url.split('?')[0] ?? '')) {
        request.gh.reason = 'password_change_required'
        throw new errors.PASSWORD_CHANGE_REQUIRED()
      }
      return
    }
    const retryAfter = deps.throttle ? await deps.throttle(request.gh.sourceIp) : null
    if (retryAfter !== null) {
      // the refusal itself is the request's access-denied event (429); no token-rejected per request
      request.gh.reason = 'unauthenticated_throttled'
      reply.header('retry-after', String(retryAfter))
      throw new errors.UNAUTHENTICATED_THROTTLED()
    }
    if (r.kind === 'invalid' && r.reason === 'api_key_not_allowed') {
      // a key that may be perfectly valid elsewhere: say so instead of a 401 that reads as a bad key
      request.gh.reason = r.reason
      const { sourceIp, id: requestId } = request.gh
      deps.audit({ action: 'token-rejected', outcome: 'failure', sourceIp, requestId, reason: r.reason })
      const where = request.url.startsWith('/admin') ? 'the admin API' : (request.routeOptions.url ?? 'this route')
      throw new errors.API_KEY_NOT_ALLOWED(where)
    }
    reply.header('www-authenticate', 'Bearer')
    if (r.kind === 'missing') {
      request.gh.reason = 'auth_required'
      throw new errors.AUTH_REQUIRED()
    }
    request.gh.reason = r.reason
    deps.audit({
      action: 'token-rejected', outcome: 'failure', sourceIp: request.gh.sourceIp, requestId: request.gh.id,
      reason: r.reason, ...(r.key !== undefined ? { target: { keyId: r.key.id, keyName: r.key.name } } : {})
    })
    throw new errors.INVALID_TOKEN()
  }
}
