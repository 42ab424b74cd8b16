// A clock tests move by hand, so time-dependent logic is tested without sleeping.
import type { Clock } from '../../src/clock.js'

export function manualClock (start = Date.UTC(2026, 0, 1)): Clock & { advance: (ms: number) => void, set: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms }, set: (ms) => { t = ms } }
}
