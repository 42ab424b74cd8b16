// A clock tests move by hand, so time-dependent logic (and its timers) is tested without sleeping.
import type { Clock, Timer } from '../../src/clock.js'

export interface ManualClock extends Clock {
  every: (ms: number, fn: () => void) => Timer
  /** moves time forward, firing each timer that falls due on the way, in time order */
  advance: (ms: number) => void
  /** jumps to `ms`; a jump forward fires timers as advance() does, a jump back fires none */
  set: (ms: number) => void
  /** timers not yet cancelled */
  pendingTimers: () => number
}

/** A clock tests move by hand. Its timers fire only from advance() and set(), synchronously. */
export function manualClock (start = Date.UTC(2026, 0, 1)): ManualClock {
  let t = start
  const timers = new Set<{ due: number, ms: number, fn: () => void }>()
  const moveTo = (target: number) => {
    for (;;) {
      let next: { due: number, ms: number, fn: () => void } | null = null
      for (const timer of timers) if (timer.due <= target && (next === null || timer.due < next.due)) next = timer
      if (next === null) break
      t = Math.max(t, next.due)
      next.due += next.ms
      next.fn()
    }
    t = target
  }
  return {
    now: () => t,
    every (ms, fn) {
      const timer = { due: t + Math.max(1, ms), ms: Math.max(1, ms), fn }
      timers.add(timer)
      return { cancel: () => { timers.delete(timer) } }
    },
    advance: (ms) => moveTo(t + ms),
    set: (ms) => { if (ms >= t) moveTo(ms); else t = ms },
    pendingTimers: () => timers.size
  }
}
