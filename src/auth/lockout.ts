// Lockout arithmetic, pure: the store keeps the counters atomically, this module decides what they
// mean at a given instant. Times are epoch milliseconds from a Clock.

export interface LockoutPolicy {
  maxFailedAttempts: number
  lockoutSeconds: number
  perIpMaxFailures: number
  perIpWindowSeconds: number
}

export interface FailureState { failedCount: number, lockedUntil: number | null }

/** Milliseconds until the account unlocks, or 0 when it is not locked at `now`. */
export function lockRemainingMs (s: FailureState, now: number): number {
  return s.lockedUntil !== null && s.lockedUntil > now ? s.lockedUntil - now : 0
}

/**
 * A lock that has run out leaves its counter at the maximum; the account then starts again with a
 * full set of attempts rather than re-locking on its first mistake.
 */
function lockExpired (s: FailureState, now: number): boolean {
  return s.lockedUntil !== null && s.lockedUntil <= now
}

/**
 * The counter after one more failure: the reference model of Store.recordFailure, which does the
 * same in one atomic statement (test/unit/auth/lockout.test.ts checks that they agree).
 */
export function afterFailure (s: FailureState, p: Pick<LockoutPolicy, 'maxFailedAttempts' | 'lockoutSeconds'>, now: number):
FailureState & { justLocked: boolean } {
  const base = lockExpired(s, now) ? { failedCount: 0, lockedUntil: null } : s
  const failedCount = base.failedCount + 1
  if (failedCount >= p.maxFailedAttempts && lockRemainingMs(base, now) === 0) {
    return { failedCount, lockedUntil: now + p.lockoutSeconds * 1000, justLocked: true }
  }
  return { failedCount, lockedUntil: base.lockedUntil, justLocked: false }
}

/** The per-source-IP throttle: attempts are refused once `perIpMaxFailures` failures are in the window. */
export function ipThrottled (failuresInWindow: number, p: Pick<LockoutPolicy, 'perIpMaxFailures'>): boolean {
  return failuresInWindow >= p.perIpMaxFailures
}
