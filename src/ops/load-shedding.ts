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
  /** how many ms the loop is behind at `now`: the pending tick's lateness, or a late tick's while it is held, whichever is longer */
  behindMs: (now: number) => number
}

interface LateTick { lag: number, at: number }

/**
 * Pure: how far behind the event loop is, from the times its heartbeat ran. Counting starts at the
 * first tick: the time before it is the gateway starting up, not load.
 */
export function createLoopLagTracker (o: { intervalMs: number, holdMs: number }): LoopLagTracker {
  let lastTick: number | null = null
  // the largest late tick in the hold, and the latest late tick (which outlasts a larger, older one)
  let largest: LateTick = { lag: 0, at: -Infinity }
  let latest: LateTick = largest
  const held = (t: LateTick, now: number): number => (now - t.at <= o.holdMs ? t.lag : 0)
  return {
    tick (now) {
      const lag = lastTick === null ? 0 : now - lastTick - o.intervalMs
      lastTick = now
      if (lag <= 0) return
      latest = { lag, at: now }
      if (lag >= largest.lag || now - largest.at > o.holdMs) largest = latest
    },
    behindMs (now) {
      if (lastTick === null) return 0
      const pending = now - lastTick - o.intervalMs
      return Math.max(0, pending, held(largest, now), held(latest, now))
    }
  }
}

export interface LoadShedding {
  /** the proxied routes' first header guard; it sheds nothing until the heartbeat has started */
  guard: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** starts the heartbeat (once the app is built) */
  start: () => void
  /** stops the heartbeat (app close) */
  stop: () => void
}

/** the heartbeat's period: a loop iteration longer than this is seen while it runs */
const HEARTBEAT_MS = 10
/** how long a late heartbeat keeps counting: long enough to see the loop catch up, short enough not to
 * shed what it could serve (a 1 s hold shed more requests than it let through in the soak, for no lower delay) */
const HOLD_MS = 250
/** Retry-After of a shed request, in whole seconds: the loop catches up within a hold or a few */
const RETRY_AFTER_SECONDS = '1'

/** The load-shedding guard over a heartbeat of its own; null when maxEventLoopDelayMs is 0 (off). */
export function createLoadShedding (maxEventLoopDelayMs: number): LoadShedding | null {
  if (maxEventLoopDelayMs <= 0) return null
  const lag = createLoopLagTracker({ intervalMs: HEARTBEAT_MS, holdMs: HOLD_MS })
  let heartbeat: NodeJS.Timeout | null = null
  return {
    async guard (request, reply) {
      if (lag.behindMs(performance.now()) <= maxEventLoopDelayMs) return
      request.gh.reason = 'overloaded'
      reply.header('retry-after', RETRY_AFTER_SECONDS)
      throw new errors.OVERLOADED()
    },
    start () {
      if (heartbeat !== null) return
      heartbeat = setInterval(() => { lag.tick(performance.now()) }, HEARTBEAT_MS)
      heartbeat.unref()
    },
    stop () {
      if (heartbeat !== null) clearInterval(heartbeat)
      heartbeat = null
    }
  }
}
