// Time as a dependency: pure logic takes a Clock so tests can move time without sleeping.
export interface Clock {
  /** milliseconds since the epoch */
  now: () => number
  /**
   * Calls `fn` every `ms` milliseconds of this clock's time until cancelled. The timer never keeps
   * the process alive. A clock without it gets real timers (see `every`).
   */
  every?: (ms: number, fn: () => void) => Timer
}

export interface Timer { cancel: () => void }

function realEvery (ms: number, fn: () => void): Timer {
  const t = setInterval(fn, ms)
  t.unref()
  return { cancel: () => clearInterval(t) }
}

/** A repeating timer on `clock`'s time; real timers when the clock brings none. */
export function every (clock: Clock, ms: number, fn: () => void): Timer {
  return (clock.every ?? realEvery)(ms, fn)
}

export const systemClock: Clock = { now: () => Date.now(), every: realEvery }

/** Whole seconds until `untilMs`, at least 1: a Retry-After value (0 would invite a hot loop). */
export function retryAfterSeconds (untilMs: number, now: number): number {
  return Math.max(1, Math.ceil((untilMs - now) / 1000))
}
