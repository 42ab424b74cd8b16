// GET /metrics as a Fastify plugin. The caller supplies the guards (authenticate, then a check for
// permission metrics:read), so this module knows nothing about credentials.
import type { FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify'
import type { Metrics } from './metrics.js'

export interface MetricsRouteOptions {
  /** run in order before the handler; they throw to refuse */
  preHandler: preHandlerAsyncHookHandler[]
  /** default /metrics */
  path?: string
}

export function metricsRoute (metrics: Pick<Metrics, 'render' | 'contentType'>, options: MetricsRouteOptions): FastifyPluginAsync {
  return async (app) => {
    app.get(options.path ?? '/metrics', { preHandler: options.preHandler }, async (_request, reply) => {
      const text = await metrics.render()
      return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text)
    })
  }
}
