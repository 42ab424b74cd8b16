// Picks where shared counters live: Redis when configured, else the database when replicas share
// one (PostgreSQL), else process memory (a single SQLite replica).
import { systemClock, type Clock } from '../clock.js'
import { errors } from '../errors.js'
import { sharedStateFromOps } from './from-ops.js'
import { createMemoryOps } from './memory.js'
import { createRedisClient, createRedisOps } from './redis.js'
import type { SharedState, StateStore } from './types.js'

export type { HitResult, SharedState, SlotLease, StatePrimitives, StateStore } from './types.js'

export interface SharedStateOptions {
  /** config `redis.url`; when set, Redis is used */
  redisUrl?: string | null
  /** the store, used when there is no Redis and it is PostgreSQL (or backend 'store' is forced) */
  store?: StateStore
  /** overrides the automatic choice */
  backend?: SharedState['kind']
  /** key prefix (default 'gatehouse:'); tests use a unique one per run */
  prefix?: string
  clock?: Clock
  /** sweep expired rows/entries after this many writes (memory and store; default 1000) */
  sweepEvery?: number
}

export function chooseBackend (opts: SharedStateOptions): SharedState['kind'] {
  if (opts.backend) return opts.backend
  if (opts.redisUrl) return 'redis'
  if (opts.store?.kind === 'postgres') return 'store'
  return 'memory'
}

export function createSharedState (opts: SharedStateOptions = {}): SharedState {
  const base = { prefix: opts.prefix ?? 'gatehouse:', clock: opts.clock ?? systemClock, sweepEvery: opts.sweepEvery ?? 1000 }
  const kind = chooseBackend(opts)
  if (kind === 'redis') {
    if (!opts.redisUrl) throw new errors.STORE('shared state: backend redis needs redis.url')
    const redis = createRedisClient(opts.redisUrl)
    return sharedStateFromOps('redis', createRedisOps(redis),
      { ...base, sweepEvery: 0, onClose: async () => { await redis.quit().catch(() => redis.disconnect()) } })
  }
  if (kind === 'store') {
    if (!opts.store) throw new errors.STORE('shared state: backend store needs a store')
    return sharedStateFromOps('store', opts.store.state, base)
  }
  return sharedStateFromOps('memory', createMemoryOps(), base)
}
