// Single-process shared state: right for one replica (the SQLite default). Plain maps; every
// operation runs to completion without awaiting, so it is atomic within the process.
import type { StatePrimitives } from './types.js'

export function createMemoryOps (): StatePrimitives {
  const counters = new Map<string, { count: number, resetAt: number }>()
  const slots = new Map<string, Map<string, number>>()
  const revoked = new Map<string, number>()
  const sums = new Map<string, { total: number, expiresAt: number }>()

  const liveSlots = (key: string, now: number): Map<string, number> => {
    const held = slots.get(key) ?? new Map<string, number>()
    for (const [holder, exp] of held) if (exp <= now) held.delete(holder)
    slots.set(key, held)
    return held
  }

  return {
    hit: async (key, windowMs, now) => {
      const c = counters.get(key)
      const next = c && c.resetAt > now ? { count: c.count + 1, resetAt: c.resetAt } : { count: 1, resetAt: now + windowMs }
      counters.set(key, next)
      return { ...next }
    },
    acquire: async (key, holder, limit, expiresAt, now) => {
      const held = liveSlots(key, now)
      if (held.size >= limit) return false
      held.set(holder, expiresAt)
      return true
    },
    add: async (key, amount, expiresAt, now) => {
      const cur = sums.get(key)
      const next = cur && cur.expiresAt > now
        ? { total: cur.total + amount, expiresAt: Math.max(cur.expiresAt, expiresAt) }
        : { total: amount, expiresAt }
      sums.set(key, next)
      return next.total
    },
    renew: async (key, holder, expiresAt, now) => {
      const held = slots.get(key)
      if ((held?.get(holder) ?? -Infinity) <= now) return false
      held?.set(holder, expiresAt)
      return true
    },
    release: async (key, holder) => {
      const held = slots.get(key)
      held?.delete(holder)
      if (held?.size === 0) slots.delete(key)
    },
    revoke: async (id, untilMs) => { revoked.set(id, Math.max(untilMs, revoked.get(id) ?? 0)) },
    isRevoked: async (id, now) => (revoked.get(id) ?? 0) > now,
    sweep: async (now) => {
      for (const [key, c] of counters) if (c.resetAt <= now) counters.delete(key)
      for (const key of slots.keys()) if (liveSlots(key, now).size === 0) slots.delete(key)
      for (const [id, until] of revoked) if (until <= now) revoked.delete(id)
      for (const [key, v] of sums) if (v.expiresAt <= now) sums.delete(key)
    }
  }
}
