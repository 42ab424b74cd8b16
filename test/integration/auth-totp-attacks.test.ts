// Security regressions for the TOTP step: a code is accepted once, no step at or before the last
// accepted one is accepted again (atomically, under concurrency), only ±1 step of drift, only six
// ASCII digits, and wrong codes count toward the account's lockout.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, login, mfa, codeAt, enrolledSession, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
afterEach(async () => { await h.close() })

async function mfaToken (): Promise<string> {
  const r = (await login(h, 'alice', TEST_PASSWORD)).json()
  expect(r.status).toBe('mfa_required')
  return r.mfa_token
}

const generous = { auth: { lockout: { maxFailedAttempts: 20 } } }
const replays = () => h.events.filter((e) => e.action === 'totp-replay')

describe('TOTP', () => {
  it('the current step, and one step either side, are accepted', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    for (const offset of [-1, 0, 1]) {
      h.clock.advance(90_000) // past every step used before
      const r = await mfa(h, await mfaToken(), await codeAt(h, secret, offset))
      expect(r.statusCode, `offset ${offset}`).toBe(200)
    }
  })

  it('a code is accepted once: the replay is refused and audited as totp-replay', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    const code = await codeAt(h, secret)
    expect((await mfa(h, await mfaToken(), code)).statusCode).toBe(200)
    const again = await mfa(h, await mfaToken(), code)
    expect(again.statusCode).toBe(401)
    expect(again.json()).toEqual({ error: 'invalid code' })
    expect(replays()).toHaveLength(1)
    expect(replays()[0]).toMatchObject({ outcome: 'failure', userName: 'alice' })
  })

  it('a code of a step before the last accepted one is refused as a replay', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    expect((await mfa(h, await mfaToken(), await codeAt(h, secret, 1))).statusCode).toBe(200)
    // the current step is older than the accepted next one, though within the window
    const older = await mfa(h, await mfaToken(), await codeAt(h, secret, 0))
    expect(older.statusCode).toBe(401)
    expect(replays()).toHaveLength(1)
  })

  it('codes two steps away are refused', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    h.clock.advance(120_000)
    for (const offset of [-2, 2]) {
      const r = await mfa(h, await mfaToken(), await codeAt(h, secret, offset))
      expect(r.statusCode, `offset ${offset}`).toBe(401)
    }
    expect((await mfa(h, await mfaToken(), await codeAt(h, secret))).statusCode).toBe(200)
  })

  it('fullwidth digits are refused even when they spell the right code', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    const code = await codeAt(h, secret)
    const fullwidth = [...code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('')
    const r = await mfa(h, await mfaToken(), fullwidth)
    expect(r.statusCode).toBe(401)
    expect(r.json()).toEqual({ error: 'invalid code' })
    // and the plain code still works afterwards: the refusal consumed nothing
    expect((await mfa(h, await mfaToken(), code)).statusCode).toBe(200)
  })

  it('7 digits (the right code plus one) are refused, as are spaces and other Unicode digits', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    const code = await codeAt(h, secret)
    for (const bad of [`${code}0`, ` ${code}`, `${code} `, [...code].map((d) => String.fromCodePoint(0x0660 + Number(d))).join('')]) {
      expect((await mfa(h, await mfaToken(), bad)).statusCode, JSON.stringify(bad)).toBe(401)
    }
  })

  it('two parallel requests with one code yield exactly one session', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    const tokens = await Promise.all([mfaToken(), mfaToken(), mfaToken(), mfaToken()])
    const code = await codeAt(h, secret)
    const results = await Promise.all(tokens.map((t) => mfa(h, t, code)))
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401, 401, 401])
    expect((await h.store.listSessions('alice')).length).toBe(2) // the enrollment's and this one
  })

  it('wrong codes count toward the account lockout', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 3 } } })
    const { secret } = await enrolledSession(h)
    const token = await mfaToken()
    for (let i = 0; i < 3; i++) expect((await mfa(h, token, '000000')).statusCode).toBe(401)
    expect(h.events.some((e) => e.action === 'account-locked' && e.userName === 'alice')).toBe(true)
    // locked: the right code now fails too, and so does the right password
    expect((await mfa(h, token, await codeAt(h, secret))).statusCode).toBe(401)
    expect((await login(h, 'alice', TEST_PASSWORD)).statusCode).toBe(401)
  })

  it('a parallel burst of codes gets at most maxFailedAttempts of them evaluated', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 3, perIpMaxFailures: 1000 } } })
    await enrolledSession(h)
    const token = await mfaToken()
    const codes = Array.from({ length: 12 }, (_, i) => String(100000 + i * 7919))
    const results = await Promise.all(codes.map((code) => mfa(h, token, code)))
    expect(results.every((r) => r.statusCode === 401)).toBe(true)
    const reasons = h.events.filter((e) => e.action === 'mfa-verify' && e.outcome === 'failure').map((e) => e.reason)
    expect(reasons.filter((r) => r === 'wrong_code').length).toBeLessThanOrEqual(3)
    expect(reasons.filter((r) => r === 'locked').length).toBeGreaterThanOrEqual(9)
    expect(h.events.filter((e) => e.action === 'account-locked')).toHaveLength(1)
  })

  it('the password step alone does not reset the counter (no refilling TOTP guesses)', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 3 } } })
    await enrolledSession(h)
    expect((await mfa(h, await mfaToken(), '000000')).statusCode).toBe(401)
    expect((await mfa(h, await mfaToken(), '000000')).statusCode).toBe(401)
    expect((await mfa(h, await mfaToken(), '000000')).statusCode).toBe(401)
    expect((await h.store.failureState('alice')).lockedUntil).not.toBeNull()
  })

  it('an mfa_token expires after 5 minutes', async () => {
    h = await createHarness(generous)
    const { secret } = await enrolledSession(h)
    const token = await mfaToken()
    h.clock.advance(5 * 60_000 + 1000)
    const r = await mfa(h, token, await codeAt(h, secret))
    expect(r.statusCode).toBe(401)
    expect(r.json().error).toBe('invalid or expired credentials')
  })

  it('an enrollment mfa_token cannot enroll again once enrollment completed', async () => {
    h = await createHarness(generous)
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const a = (await login(h, 'alice', TEST_PASSWORD)).json()
    const b = (await login(h, 'alice', TEST_PASSWORD)).json()
    const secretA = new URL(a.otpauth_url).searchParams.get('secret') as string
    const secretB = new URL(b.otpauth_url).searchParams.get('secret') as string
    expect(secretA).not.toBe(secretB)
    expect((await mfa(h, a.mfa_token, await codeAt(h, secretA))).statusCode).toBe(200)
    h.clock.advance(30_000)
    expect((await mfa(h, b.mfa_token, await codeAt(h, secretB))).statusCode).toBe(401)
    // the enrolled secret is A's
    h.clock.advance(30_000)
    expect((await mfa(h, await mfaToken(), await codeAt(h, secretA))).statusCode).toBe(200)
  })

  it('no code, secret or token reaches the audit events', async () => {
    h = await createHarness(generous)
    const { secret, token } = await enrolledSession(h)
    const code = await codeAt(h, secret)
    const mt = await mfaToken()
    await mfa(h, mt, code)
    await mfa(h, mt, code)
    const text = JSON.stringify(h.events)
    for (const s of [secret, token, mt, code, TEST_PASSWORD]) expect(text).not.toContain(s)
  })
})
