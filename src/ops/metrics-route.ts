// GET /metrics as a Fastify plugin. The caller supplies the guards (authenticate, then a check for
// permission metrics:read), so this module knows nothing about credentials.
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Metrics } from './metrics.js'

export interface MetricsRouteOptions {
  /** run in order before the handler; they throw to refuse */
  preHandler: preHandlerAsyncHookHandler[]
  /** default /metrics */
  path?: string
  /** whether the caller may see a model's name; the others are shown as `_other` (default: all visible) */
  modelVisible?: (request: FastifyRequest, model: string) => boolean
}

export function metricsRoute (metrics: Pick<Metrics, 'render' | 'contentType'>, options: MetricsRouteOptions): FastifyPluginAsync {
  return async (app) => {
    app.get(options.path ?? '/metrics', { preHandler: options.preHandler }, async (request, reply) => {
      const visible = options.modelVisible
      const text = await metrics.render(visible === undefined ? undefined : (model) => visible(request, model))
      return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text)
    })
  }
}
