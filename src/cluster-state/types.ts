// Counters and markers that every replica must see alike: login throttles, rate limits, stream
// slots, revoked token ids. Times are epoch ms passed in, so every backend makes
// the same decision for the same inputs (Redis and database expiry only garbage-collects).

export interface HitResult {
  /** hits in the current window, this one included */
  count: number
  /** when the current window ends (epoch ms) */
  resetAt: number
}

export interface SlotLease {
  /** false when `limit` unexpired slots were already held; release/renew are then no-ops */
  ok: boolean
  /** frees the slot; idempotent */
  release: () => Promise<void>
  /** pushes the slot's expiry to now + ttlMs (long streams call it now and then); false when it already expired and was reclaimed */
  renew: (now: number) => Promise<boolean>
}

export interface SharedState {
  readonly kind: 'memory' | 'store' | 'redis'
  /**
   * Counts a hit in a fixed window that starts at the key's first hit (or first hit after the last
   * window ended) and lasts windowMs.
   */
  hit: (key: string, windowMs: number, now: number) => Promise<HitResult>
  /** takes one of `limit` concurrency slots; a slot not released expires at now + ttlMs (a crashed replica's slots come back) */
  acquire: (key: string, limit: number, ttlMs: number, now: number) => Promise<SlotLease>
  /**
   * Adds `amount` (>= 0; 0 reads) to a running total that lasts until `expiresAt` (epoch ms) and
   * returns the new total; a total whose time has passed starts again from `amount`.
   */
  add: (key: string, amount: number, expiresAt: number, now: number) => Promise<number>
  /** marks a token id revoked until `untilMs` (its expiry); `now` defaults to the clock */
  revoke: (id: string, untilMs: number, now?: number) => Promise<void>
  isRevoked: (id: string, now: number) => Promise<boolean>
  /** drops expired entries (backends also do it on their own now and then) */
  sweep: (now?: number) => Promise<void>
  /** frees what this instance owns (a Redis connection it opened); never closes a Store it was given */
  close: () => Promise<void>
}

/**
 * Atomic primitives a SharedState is built on (from-ops.ts), so replicas sharing one database
 * share counters without Redis. Keys are opaque; the caller prefixes. The memory and Redis backends
 * (memory.ts, redis.ts) implement them, and so does every store backend (its `state` member).
 */
export interface StatePrimitives {
  /** fixed window starting at the first hit: count 1 and resetAt = now + windowMs when absent or expired */
  hit: (key: string, windowMs: number, now: number) => Promise<{ count: number, resetAt: number }>
  /** takes a slot for `holder` when fewer than `limit` unexpired slots exist; true on success */
  acquire: (key: string, holder: string, limit: number, expiresAt: number, now: number) => Promise<boolean>
  /** adds to a total that lasts until expiresAt (restarting from `amount` once expired); returns the new total */
  add: (key: string, amount: number, expiresAt: number, now: number) => Promise<number>
  /** pushes a live slot's expiry; false when the slot expired or was released */
  renew: (key: string, holder: string, expiresAt: number, now: number) => Promise<boolean>
  release: (key: string, holder: string) => Promise<void>
  /** remembers `id` as revoked until `untilMs` (a later until wins); `now` sizes Redis's GC TTL */
  revoke: (id: string, untilMs: number, now: number) => Promise<void>
  isRevoked: (id: string, now: number) => Promise<boolean>
  /** deletes expired rows of every state table */
  sweep: (now: number) => Promise<void>
}

/** A database that carries the primitives itself (the store backends): shared state can live in it. */
export interface StateStore {
  readonly kind: string
  readonly state: StatePrimitives
}
