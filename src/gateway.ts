// The composition root: builds every service from the configuration and hands them to buildApp.
// server.ts (the `serve` command) and the integration tests both start Gatehouse through here.
import type { FastifyInstance } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { buildApp } from './app.js'
import { createUpstream, type Upstream } from './proxy/upstream.js'
import type { ReplyStages } from './proxy/forward.js'
import { systemClock, type Clock } from './clock.js'

export interface GatewayOptions {
  clock?: Clock
  logger?: boolean | Record<string, unknown>
}

export interface Gateway {
  app: FastifyInstance
  upstream: Upstream
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
  return {
    app,
    upstream,
    async close () {
      await app.close()
      await upstream.close()
    }
  }
}
