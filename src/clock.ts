// Time as a dependency: pure logic takes a Clock so tests can move time without sleeping.
export interface Clock {
  /** milliseconds since the epoch */
  now: () => number
}

export const systemClock: Clock = { now: () => Date.now() }

/** Whole seconds until `untilMs`, at least 1: a Retry-After value (0 would invite a hot loop). */
export function retryAfterSeconds (untilMs: number, now: number): number {
  return Math.max(1, Math.ceil((untilMs - now) / 1000))
}
