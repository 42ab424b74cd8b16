// Load shedding: while the event loop runs behind by more than limits.maxEventLoopDelayMs, a new
// proxied request is refused at once with 503 GH_ERR_OVERLOADED and Retry-After, before any
// credential or body is read, so the streams already in flight keep their pace instead of every
// request slowing down together. 0 turns it off. The control surface (/auth, /admin, /console,
// /metrics, /healthz, /readyz) is never shed: an operator can still see and act.
//
// How far behind the loop is comes from a heartbeat: a timer due every `intervalMs`. A tick that
// has not come by its time shows a loop iteration still running (the request being judged arrived
// in it); a tick that came late shows one that just ran long, and its lateness is held for
// `holdMs`, so shedding goes on while the loop catches up rather than stopping at the first tick.
import { performance } from 'node:perf_hooks'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

export interface LoopLagTracker {
  /** the heartbeat ran at `now` (ms, monotonic) */
  tick: (now: number) => void
  /** how many ms the loop is behind at `now`: the longer of the pending tick's lateness and the last late tick's, while held */
  behindMs: (now: number) => number
}

/**
 * Pure: how far behind the event loop is, from the times its heartbeat ran. Counting starts at the
 * first tick: the time before it is the gateway starting up, not load.
 */
export function createLoopLagTracker (o: { intervalMs: number, holdMs: number }): LoopLagTracker {
  let lastTick: number | null = null
  let heldLag = 0
  let heldSince = -Infinity
  return {
    tick (now) {
      const lag = lastTick === null ? 0 : now - lastTick - o.intervalMs
      lastTick = now
      // a late tick replaces a smaller held lateness, or one held past its time
      if (lag > 0 && (lag >= heldLag || now - heldSince > o.holdMs)) { heldLag = lag; heldSince = now }
    },
    behindMs (now) {
      if (lastTick === null) return 0
      const pending = now - lastTick - o.intervalMs
      const held = now - heldSince <= o.holdMs ? heldLag : 0
      return Math.max(0, pending, held)
    }
  }
}

export interface LoadShedding {
  /** the proxied routes' first header guard */
  guard: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** stops the heartbeat (app close) */
  stop: () => void
}

/** the heartbeat's period: a loop iteration longer than this is seen while it runs */
const HEARTBEAT_MS = 10
/** how long a late heartbeat keeps counting: long enough to see the loop catch up, short enough not to
 * shed what it could serve (a 1 s hold shed three requests in five in the soak, for no lower delay) */
const HOLD_MS = 250
/** Retry-After of a shed request, in whole seconds: the loop catches up within a hold or a few */
const RETRY_AFTER_SECONDS = '1'

/** The load-shedding guard over a heartbeat of its own; null when maxEventLoopDelayMs is 0 (off). */
export function createLoadShedding (maxEventLoopDelayMs: number): LoadShedding | null {
  if (maxEventLoopDelayMs <= 0) return null
  const lag = createLoopLagTracker({ intervalMs: HEARTBEAT_MS, holdMs: HOLD_MS })
  const heartbeat = setInterval(() => { lag.tick(performance.now()) }, HEARTBEAT_MS)
  heartbeat.unref()
  return {
    async guard (request, reply) {
      if (lag.behindMs(performance.now()) <= maxEventLoopDelayMs) return
      request.gh.reason = 'overloaded'
      reply.header('retry-after', RETRY_AFTER_SECONDS)
      throw new errors.OVERLOADED()
    },
    stop: () => { clearInterval(heartbeat) }
  }
}
