// Lockout and throttling: consecutive failures lock an account (whatever the spelling of its name
// and wherever they come from), a success resets the count, the lock ends on time, a per-address
// throttle answers 429 with Retry-After, and every kind of login failure looks the same.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, login, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'
import { createPasswordHasher } from '../../src/auth/passwords.js'

let h: Harness
afterEach(async () => { await h.close() })

const noMfa = { mfa: { requiredForRoles: ['admin'] } }

describe('account lockout', () => {
  it('username variants (case, spaces, fullwidth) share one lockout counter', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 3 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    for (const variant of ['ALICE', ' alice', 'ａｌｉｃｅ']) expect((await login(h, variant, 'wrong-password-123')).statusCode).toBe(401)
    expect((await h.store.failureState('alice')).failedCount).toBe(3)
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(401)
    expect(h.events.filter((e) => e.action === 'account-locked').map((e) => e.userName)).toEqual(['alice'])
  })

  it('any variant of the name logs in to the one account', async () => {
    h = await createHarness({ auth: noMfa })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    for (const variant of ['ALICE', ' alice ', 'ａｌｉｃｅ', 'Alice']) {
      const r = await login(h, variant, TEST_PASSWORD)
      expect(r.statusCode, variant).toBe(200)
    }
  })

  it('failures spread across many source addresses still lock the account', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 3 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    for (const ip of ['198.51.100.1', '198.51.100.2', '2001:db8::3']) expect((await login(h, 'alice', 'nope-nope-nope', ip)).statusCode).toBe(401)
    expect((await login(h, 'alice', TEST_PASSWORD, '198.51.100.9')).statusCode).toBe(401)
  })

  it('the right password during the lock fails generically; after lockoutSeconds it works again', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 2, lockoutSeconds: 600 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await login(h, 'alice', 'wrong-1-wrong-1')
    await login(h, 'alice', 'wrong-2-wrong-2')
    h.clock.advance(599_000)
    const during = await login(h, 'alice', TEST_PASSWORD)
    expect(during.statusCode).toBe(401)
    expect(during.json()).toEqual({ error: 'invalid username or password' })
    h.clock.advance(1_000)
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(200)
  })

  it('after a lock ends the account has a full set of attempts again', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 2, lockoutSeconds: 60 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await login(h, 'alice', 'wrong-1-wrong-1')
    await login(h, 'alice', 'wrong-2-wrong-2')
    h.clock.advance(61_000)
    await login(h, 'alice', 'wrong-3-wrong-3')
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(200)
  })

  it('a success resets the count of consecutive failures', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 3 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await login(h, 'alice', 'wrong-1-wrong-1')
    await login(h, 'alice', 'wrong-2-wrong-2')
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(200)
    expect((await h.store.failureState('alice')).failedCount).toBe(0)
    await login(h, 'alice', 'wrong-3-wrong-3')
    await login(h, 'alice', 'wrong-4-wrong-4')
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(200)
  })

  it('unknown usernames lock alike (no way to tell them from real ones)', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 2 } } })
    await login(h, 'ghost', 'wrong-1-wrong-1')
    await login(h, 'GHOST', 'wrong-2-wrong-2')
    expect((await h.store.failureState('ghost')).lockedUntil).not.toBeNull()
  })

  it('user unlock ends a lock at once', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 1 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await login(h, 'alice', 'wrong-1-wrong-1')
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(401)
    await h.auth.userAdmin.unlock('ALICE')
    expect(h.events.some((e) => e.action === 'account-unlocked' && e.target?.userName === 'alice')).toBe(true)
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(200)
  })
})

describe('per-address throttle', () => {
  it('password spraying across many usernames from one address gets 429 with Retry-After', async () => {
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 3, perIpMaxFailures: 4, perIpWindowSeconds: 300 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    for (const name of ['u1', 'u2', 'u3', 'u4']) expect((await login(h, name, 'Summer2026!!', '203.0.113.7')).statusCode).toBe(401)
    h.clock.advance(100_000)
    const r = await login(h, 'alice', TEST_PASSWORD, '203.0.113.7')
    expect(r.statusCode).toBe(429)
    expect(r.headers['retry-after']).toBe('200')
    expect(r.json()).toEqual({ error: 'too many failed attempts from this address' })
    // another address is unaffected, and the window ends on time
    expect((await login(h, 'alice', TEST_PASSWORD, '203.0.113.8')).statusCode).toBe(200)
    h.clock.advance(200_000)
    expect((await login(h, 'alice', TEST_PASSWORD, '203.0.113.7')).statusCode).toBe(200)
  })

  it('wrong TOTP codes count toward the address throttle too', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 10, perIpMaxFailures: 2 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const t = (await login(h, 'alice', TEST_PASSWORD, '203.0.113.9')).json().mfa_token
    const mfa = (code: string) => h.app.inject({ method: 'POST', url: '/auth/mfa', headers: { 'x-test-ip': '203.0.113.9' }, payload: { mfa_token: t, code } })
    expect((await mfa('000000')).statusCode).toBe(401)
    expect((await mfa('000001')).statusCode).toBe(401)
    const r = await mfa('000002')
    expect(r.statusCode).toBe(429)
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
  })
})

describe('uniform failures', () => {
  async function setup () {
    // the production argon2id cost: the timing test measures it
    h = await createHarness({ auth: { ...noMfa, lockout: { maxFailedAttempts: 1, perIpMaxFailures: 1000 } } }, { passwords: createPasswordHasher() })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await h.auth.userAdmin.addUser('dora', 'user', TEST_PASSWORD)
    await h.auth.userAdmin.disableUser('dora')
    await h.auth.userAdmin.addUser('lena', 'user', TEST_PASSWORD)
    await login(h, 'lena', 'lock-it-now-please')
  }
  const cases = () => ({
    'unknown user': () => login(h, 'nobody', TEST_PASSWORD),
    'wrong password': () => { return h.auth.userAdmin.unlock('alice').then(() => login(h, 'alice', 'not-the-password!')) },
    'disabled user': () => login(h, 'dora', TEST_PASSWORD),
    'locked account (right password)': () => login(h, 'lena', TEST_PASSWORD)
  })

  it('unknown user, wrong password, disabled user and locked account give the same status, body and headers', async () => {
    await setup()
    const seen = await Promise.all(Object.entries(cases()).map(async ([name, run]) => {
      const r = await run()
      const { date: _d, ...headers } = r.headers
      return { name, status: r.statusCode, body: r.body, headers }
    }))
    const first = seen[0] as (typeof seen)[number]
    expect(first.status).toBe(401)
    expect(JSON.parse(first.body)).toEqual({ error: 'invalid username or password' })
    for (const s of seen) {
      expect({ status: s.status, body: s.body, headers: s.headers }, s.name).toEqual({ status: first.status, body: first.body, headers: first.headers })
    }
  })

  it('they take similar time: every path computes one argon2id hash', async () => {
    await setup()
    // rounds interleave the cases so load from other processes hits them alike; the minimum of
    // several samples is each path's own cost, the part that would betray an account's state
    const entries = Object.entries(cases())
    const best: Record<string, number> = Object.fromEntries(entries.map(([name]) => [name, Infinity]))
    for (let round = 0; round < 7; round++) {
      for (const [name, run] of entries) {
        const t0 = process.hrtime.bigint()
        await run()
        best[name] = Math.min(best[name] as number, Number(process.hrtime.bigint() - t0) / 1e6)
      }
    }
    const values = Object.values(best)
    const hi = Math.max(...values)
    // without the dummy hash an unknown user answers ~10-50x faster than a known one
    for (const [name, ms] of Object.entries(best)) expect(ms / hi, `${name}: ${JSON.stringify(best)}`).toBeGreaterThan(0.4)
    expect(Math.min(...values), JSON.stringify(best)).toBeGreaterThan(3)
  })
})
