// The composition root: builds every service from the configuration and hands them to buildApp.
// server.ts (the `serve` command) and the integration tests both start Gatehouse through here.
import type { FastifyInstance } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { buildApp } from './app.js'
import { createUpstream, type Upstream } from './proxy/upstream.js'
import type { ReplyStages } from './proxy/forward.js'
import { systemClock, type Clock } from './clock.js'
import type { Io } from './cli/output.js'

export interface GatewayOptions {
  clock?: Clock
  logger?: boolean | Record<string, unknown>
  /** where first-start messages (bootstrap password) go; stderr by default */
  io?: Io
  /** how long open streams may run after SIGTERM before they are cut */
  drainDeadlineMs?: number
}

export interface Gateway {
  app: FastifyInstance
  upstream: Upstream
  /** stop accepting, let open requests finish up to the drain deadline, then flush and close everything */
  shutdown: () => Promise<void>
  close: () => Promise<void>
}

const passThroughStages: ReplyStages = {
  stream: () => [],
  json: async (_request, _route, body) => body,
  beforeEnd: async () => {}
}

export async function createGateway (config: GatehouseConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const _clock = options.clock ?? systemClock
  const upstream = createUpstream(config.upstream)
  const app = await buildApp({
    config,
    upstream,
    guards: [],
    stages: passThroughStages,
    readiness: [{ name: 'ollama', check: () => upstream.ping() }],
    plugins: [],
    logger: options.logger ?? false
  })
  const close = async () => {
    await app.close()
    await upstream.close()
  }
  return {
    app,
    upstream,
    close,
    async shutdown () {
      const deadline = setTimeout(() => { app.server.closeAllConnections() }, options.drainDeadlineMs ?? 30_000)
      deadline.unref()
      try { await close() } finally { clearTimeout(deadline) }
    }
  }
}
