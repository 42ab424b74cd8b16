// One SharedState over any backend's primitive operations: key namespacing, slot holder ids,
// idempotent release, and a sweep of expired entries every so many writes.
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { SharedState, SlotLease, StatePrimitives } from './types.js'

export interface FromOpsOptions {
  /** prepended to every key, so deployments (and test runs) sharing a backend stay apart */
  prefix: string
  clock: Clock
  /** sweep expired entries after this many writes (0 = never; Redis expires keys itself) */
  sweepEvery: number
  onClose?: () => Promise<void>
}

export function sharedStateFromOps (kind: SharedState['kind'], ops: StatePrimitives, opts: FromOpsOptions): SharedState {
  const k = (ns: string, key: string): string => `${opts.prefix}${ns}:${key}`
  let writes = 0
  const wrote = async (now: number): Promise<void> => {
    if (opts.sweepEvery <= 0 || ++writes % opts.sweepEvery !== 0) return
    // housekeeping runs beside the request that happened to trigger it: never failing it, never delaying it
    void ops.sweep(now).catch(() => {})
  }
  const refused: SlotLease = { ok: false, release: async () => {}, renew: async () => false }

  return {
    kind,
    hit: async (key, windowMs, now) => {
      const r = await ops.hit(k('hit', key), windowMs, now)
      await wrote(now)
      return r
    },
    acquire: async (key, limit, ttlMs, now) => {
      const slotKey = k('slot', key)
      const holder = randomUUID()
      const ok = await ops.acquire(slotKey, holder, limit, now + ttlMs, now)
      await wrote(now)
      if (!ok) return refused
      let released = false
      return {
        ok,
        release: async () => {
          if (released) return
          released = true
          await ops.release(slotKey, holder)
        },
        renew: async (at) => !released && await ops.renew(slotKey, holder, at + ttlMs, at)
      }
    },
    add: async (key, amount, expiresAt, now) => {
      const total = await ops.add(k('sum', key), amount, expiresAt, now)
      if (amount > 0) await wrote(now)
      return total
    },
    revoke: async (id, untilMs, now = opts.clock.now()) => {
      await ops.revoke(k('rev', id), untilMs, now)
      await wrote(now)
    },
    isRevoked: async (id, now) => await ops.isRevoked(k('rev', id), now),
    sweep: async (now = opts.clock.now()) => { await ops.sweep(now) },
    close: async () => { await opts.onClose?.() }
  }
}
