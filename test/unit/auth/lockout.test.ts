import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { manualClock } from '../../helpers/clock.js'
import { afterFailure, ipThrottled, lockRemainingMs, type FailureState } from '../../../src/auth/lockout.js'
import { retryAfterSeconds } from '../../../src/clock.js'
import { createStore } from '../../../src/store/index.js'

const policy = { maxFailedAttempts: 3, lockoutSeconds: 900 }

describe('lockout arithmetic', () => {
  it('maxFailedAttempts consecutive failures lock for lockoutSeconds', () => {
    const clock = manualClock()
    let s: FailureState = { failedCount: 0, lockedUntil: null }
    for (let i = 1; i <= 2; i++) {
      const r = afterFailure(s, policy, clock.now())
      expect(r).toMatchObject({ failedCount: i, lockedUntil: null, justLocked: false })
      s = r
    }
    const locked = afterFailure(s, policy, clock.now())
    expect(locked).toEqual({ failedCount: 3, lockedUntil: clock.now() + 900_000, justLocked: true })
    expect(lockRemainingMs(locked, clock.now())).toBe(900_000)
    clock.advance(899_999)
    expect(lockRemainingMs(locked, clock.now())).toBe(1)
    clock.advance(1)
    expect(lockRemainingMs(locked, clock.now())).toBe(0)
  })

  it('a failure during a lock never extends it', () => {
    const now = Date.UTC(2026, 0, 1)
    const s = { failedCount: 3, lockedUntil: now + 1000 }
    const r = afterFailure(s, policy, now + 10)
    expect(r.lockedUntil).toBe(now + 1000)
    expect(r.justLocked).toBe(false)
  })

  it('after a lock ends, counting starts again from zero', () => {
    const now = Date.UTC(2026, 0, 1)
    const r = afterFailure({ failedCount: 3, lockedUntil: now }, policy, now)
    expect(r).toEqual({ failedCount: 1, lockedUntil: null, justLocked: false })
  })

  it('property: a lock begins exactly at the maxFailedAttempts-th failure of a run and lasts lockoutSeconds', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.integer({ min: 0, max: 2_000_000 }), { maxLength: 30 }),
      (max, gaps) => {
        const p = { maxFailedAttempts: max, lockoutSeconds: 900 }
        let s: FailureState = { failedCount: 0, lockedUntil: null }
        let t = 0
        let run = 0 // failures since the last lock ended (reference model)
        for (const g of gaps) {
          t += g
          const wasLocked = lockRemainingMs(s, t) > 0
          if (!wasLocked && s.lockedUntil !== null) run = 0
          const r = afterFailure(s, p, t)
          if (!wasLocked) run++
          expect(r.justLocked).toBe(!wasLocked && run === max)
          if (r.justLocked) expect(r.lockedUntil).toBe(t + 900_000)
          if (wasLocked) expect(r.lockedUntil).toBe(s.lockedUntil)
          if (lockRemainingMs(r, t) > 0) expect(r.failedCount).toBeGreaterThanOrEqual(max)
          else expect(r.failedCount).toBeLessThan(max)
          s = r
        }
      }
    ))
  })

  it('property: Store.recordFailure (SQLite) agrees with afterFailure, including the fresh run after a lock expired', async () => {
    const store = await createStore('sqlite::memory:')
    try {
      let run = 0
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 1_500_000 }), { minLength: 1, maxLength: 25 }),
        async (max, gaps) => {
          const username = `u${++run}`
          let model: FailureState = { failedCount: 0, lockedUntil: null }
          let t = Date.UTC(2026, 0, 1)
          for (const g of gaps) {
            t += g
            const expected = afterFailure(model, { maxFailedAttempts: max, lockoutSeconds: 900 }, t)
            expect(await store.recordFailure(username, max, 900_000, t)).toEqual(expected)
            model = expected
          }
        }
      ), { numRuns: 60 })
    } finally {
      await store.close()
    }
  })

  it('the per-address throttle refuses once perIpMaxFailures are in the window', () => {
    expect(ipThrottled(19, { perIpMaxFailures: 20 })).toBe(false)
    expect(ipThrottled(20, { perIpMaxFailures: 20 })).toBe(true)
  })

  it('Retry-After is whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(10_001, 0)).toBe(11)
    expect(retryAfterSeconds(10_000, 0)).toBe(10)
    expect(retryAfterSeconds(5, 10)).toBe(1)
  })
})
