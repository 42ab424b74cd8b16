// Time as a dependency: pure logic takes a Clock so tests can move time without sleeping.
export interface Clock {
  /** milliseconds since the epoch */
  now: () => number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export function manualClock (start = Date.UTC(2026, 0, 1)): Clock & { advance: (ms: number) => void, set: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms }, set: (ms) => { t = ms } }
}
