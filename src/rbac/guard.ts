// The policy check as a preHandler: runs after the credential loaders, decides on the route's
// permission and the models the request names, and leaves for the later stages the body to forward
// and how Ollama will read its `stream` member (the rate limit counts streams from that).
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import { authorize, authzError } from './authorize.js'
import type { Policy } from './policy.js'

export function createAuthorizeGuard (policy: Policy): preHandlerAsyncHookHandler {
  return async function authorizeRequest (request: FastifyRequest) {
    const ctx = request.gh
    const route = ctx.route
    if (!route) throw new errors.ROUTE_NOT_FOUND()
    if (!ctx.identity) throw new errors.AUTH_REQUIRED()
    const raw = Buffer.isBuffer(request.body) ? request.body : null
    const result = authorize(policy, route, ctx.identity.roles, raw, request.params as Record<string, string>)
    // the audit names the models on a denial too (the refused one first)
    ctx.models = result.models
    if (!result.ok) {
      ctx.decision = 'deny'
      ctx.reason = result.reason
      throw authzError(result)
    }
    ctx.decision = 'allow'
    ctx.forwardBody = result.forwardBody
    ctx.stream = result.stream
    ctx.usageAdded = result.usageAdded
  }
}
