// Security regression: right after a lock runs out, a parallel burst of wrong TOTP codes must get at
// most maxFailedAttempts of them evaluated. "The lock expired, start counting again" was once three
// store calls (read, reset, count): with store latency, several requests each saw the expired lock
// and each reset the counter, so every one of them got a guess. Now it is one atomic recordFailure.
import { afterEach, describe, expect, it } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import type { StoreBackend } from '../../src/store/types.js'
import { createHarness, login, mfa, codeAt, enrolledSession, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
afterEach(async () => { await h.close() })

/** every store call waits 0–4 ms first, so parallel requests interleave between their store calls */
function withJitter (store: StoreBackend): StoreBackend {
  return new Proxy(store, {
    get (target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown
      if (typeof v !== 'function') return v
      return async (...args: unknown[]) => {
        await sleep(Math.floor(Math.random() * 5))
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
}

describe('lockout expiry under concurrency', () => {
  it('a parallel burst of wrong TOTP codes right after a lock expired gets at most maxFailedAttempts evaluated', async () => {
    const max = 3
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: max, lockoutSeconds: 60, perIpMaxFailures: 10_000 } } }, { wrapStore: withJitter })
    const { secret } = await enrolledSession(h)
    const mfaToken = async () => {
      const r = (await login(h, 'alice', TEST_PASSWORD)).json()
      expect(r.status).toBe('mfa_required')
      return r.mfa_token as string
    }
    const right = new Set(await Promise.all([-1, 0, 1].map((o) => codeAt(h, secret, o))))
    const wrongCodes = (n: number) => Array.from({ length: n + 3 }, (_, i) => String(100000 + i * 7919)).filter((c) => !right.has(c)).slice(0, n)

    const first = await mfaToken()
    for (const code of wrongCodes(max)) expect((await mfa(h, first, code)).statusCode).toBe(401)
    expect((await h.store.failureState('alice')).lockedUntil).not.toBeNull()
    h.clock.advance(61_000) // the lock has run out

    const token = await mfaToken()
    const before = h.events.length
    const results = await Promise.all(wrongCodes(24).map((code) => mfa(h, token, code)))
    expect(results.every((r) => r.statusCode === 401)).toBe(true)
    const burst = h.events.slice(before)
    const evaluated = burst.filter((e) => e.action === 'mfa-verify' && e.reason === 'wrong_code')
    expect(evaluated.length).toBeGreaterThan(0)
    expect(evaluated.length).toBeLessThanOrEqual(max)
    expect(burst.filter((e) => e.action === 'account-locked')).toHaveLength(1)
    expect((await h.store.failureState('alice')).lockedUntil).toBe(h.clock.now() + 60_000)
  })
})
