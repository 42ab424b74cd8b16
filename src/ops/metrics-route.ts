// GET /metrics as a Fastify plugin: the caller's authenticate preHandler finds the identity, then
// the route asks the policy for permission `metrics:read` (403 without it, recorded as the reason).
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import type { Policy } from '../rbac/policy.js'
import type { Metrics } from './metrics.js'

export interface MetricsRouteOptions {
  /** finds the caller's identity (request.gh.identity) or refuses */
  authenticate: preHandlerAsyncHookHandler
  policy: Pick<Policy, 'permits'>
  /** default /metrics */
  path?: string
  /** whether the caller may see a model's name; the others are shown as `_other` (default: all visible) */
  modelVisible?: (request: FastifyRequest, model: string) => boolean
}

/** The permission check of the metrics route, after authentication. */
function requireMetricsRead (policy: Pick<Policy, 'permits'>) {
  return async function metricsRead (request: FastifyRequest): Promise<void> {
    if (policy.permits(request.gh.identity?.roles ?? [], 'metrics:read')) return
    request.gh.reason = 'permission:metrics:read'
    throw new errors.FORBIDDEN('metrics:read')
  }
}

export function metricsRoute (metrics: Pick<Metrics, 'render' | 'contentType'>, options: MetricsRouteOptions): FastifyPluginAsync {
  const preHandler = [options.authenticate, requireMetricsRead(options.policy)]
  return async (app) => {
    app.get(options.path ?? '/metrics', { preHandler }, async (request, reply) => {
      const visible = options.modelVisible
      const text = await metrics.render(visible === undefined ? undefined : (model) => visible(request, model))
      return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text)
    })
  }
}
