// The per-identity limits (config rateLimit): requests per minute and concurrent streams, counted
// in SharedState so every replica sharing Redis (or the database) enforces one limit. Runs after
// authentication and the policy, as a preHandler of proxied routes.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { retryAfterSeconds, type Clock } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import { errors } from '../errors.js'
import type { SharedState } from '../cluster-state/types.js'
import { identityKey, wantsStream } from './rate-rules.js'

export interface RateLimitDeps {
  sharedState: Pick<SharedState, 'hit' | 'acquire'>
  config: GatehouseConfig['rateLimit']
  clock: Clock
  /** optional observers (metrics) */
  observe?: {
    rateLimited?: (limit: 'requests' | 'streams') => void
    streamOpened?: () => void
    streamClosed?: () => void
  }
  /** a slot a crashed replica never released comes back after this (default 120 s); live streams renew it */
  slotTtlMs?: number
  /** Retry-After for a refused stream, whose end cannot be predicted (default 5 s) */
  streamRetryAfterSeconds?: number
}

const WINDOW_MS = 60_000

/** The policy allowed the request; the limit turns that into a denial, with the limit as its reason. */
function refuse (request: FastifyRequest, reason: string): void {
  request.gh.decision = 'deny'
  request.gh.reason = reason
}

export function createRateLimitGuard (deps: RateLimitDeps): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { sharedState, config, clock } = deps
  const ttlMs = deps.slotTtlMs ?? 120_000
  const streamRetry = String(deps.streamRetryAfterSeconds ?? 5)

  return async function rateLimit (request, reply) {
    const identity = request.gh?.identity
    const route = request.gh?.route
    // runs after the credential loaders; if it is ever reached without an identity, refuse
    if (!identity || !route) throw new errors.AUTH_REQUIRED()
    const key = identityKey(identity)

    const now = clock.now()
    const hit = await sharedState.hit(`rl:rpm:${key}`, WINDOW_MS, now)
    if (hit.count > config.requestsPerMinute) {
      deps.observe?.rateLimited?.('requests')
      refuse(request, 'rate-limit:requests')
      reply.header('retry-after', String(retryAfterSeconds(hit.resetAt, now)))
      throw new errors.RATE_LIMITED()
    }

    // the policy guard already read `stream` from the body, the way Ollama will
    const stream = request.gh.stream
    if (stream === undefined && route.body === 'json') throw new Error(`${route.id}: stream not read (policy guard missing)`)
    if (!wantsStream(route, stream ?? null)) return

    const lease = await sharedState.acquire(`rl:streams:${key}`, config.concurrentStreams, ttlMs, now)
    if (!lease.ok) {
      deps.observe?.rateLimited?.('streams')
      refuse(request, 'rate-limit:streams')
      reply.header('retry-after', streamRetry)
      throw new errors.TOO_MANY_STREAMS()
    }
    deps.observe?.streamOpened?.()
    // long streams keep their slot alive; a crash lets it expire instead
    const renewal = setInterval(() => { lease.renew(clock.now()).catch(() => {}) }, Math.max(1000, Math.floor(ttlMs / 3)))
    renewal.unref()
    const done = () => {
      clearInterval(renewal)
      deps.observe?.streamClosed?.()
      lease.release().catch((err: unknown) => { request.log.warn({ err }, 'rate limit: releasing a stream slot failed') })
    }
    // 'close' fires once the response is finished or the client hung up, whichever comes first;
    // a client that left while the slot was being taken has already closed
    if (reply.raw.closed) done()
    else reply.raw.once('close', done)
  }
}
