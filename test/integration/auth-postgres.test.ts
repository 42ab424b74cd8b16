// The auth flows that depend on the store's atomicity, on PostgreSQL, where requests really run
// concurrently on separate pool connections: one code, one session; parallel failures lock once.
// Skips (loudly) without a server outside CI; in CI an unreachable server fails.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { dropSchemas, findPostgres, uniqueSchema } from '../store/pg-env.js'
import { createHarness, enrolledSession, login, mfa, codeAt, bearer, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

const pgUrl = await findPostgres()
const schemas: string[] = []
let h: Harness | null = null

async function pgHarness (config: Record<string, unknown> = {}): Promise<Harness> {
  const schema = uniqueSchema('auth')
  schemas.push(schema)
  h = await createHarness(config, { storeUrl: pgUrl as string, schema })
  return h
}

afterEach(async () => { await h?.close(); h = null })
afterAll(async () => { if (pgUrl !== null && schemas.length > 0) await dropSchemas(pgUrl, schemas) })

describe.skipIf(pgUrl === null)('auth on PostgreSQL', () => {
  it('parallel submissions of one TOTP code yield exactly one session', async () => {
    const h = await pgHarness({ auth: { lockout: { maxFailedAttempts: 20 } } })
    const { secret } = await enrolledSession(h)
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(async () => (await login(h, 'alice', TEST_PASSWORD)).json().mfa_token as string))
    const code = await codeAt(h, secret)
    const results = await Promise.all(tokens.map((t) => mfa(h, t, code)))
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1)
    expect(h.events.filter((e) => e.action === 'totp-replay')).toHaveLength(5)
  })

  it('a parallel burst of wrong codes evaluates at most maxFailedAttempts and locks once', async () => {
    const h = await pgHarness({ auth: { lockout: { maxFailedAttempts: 3, perIpMaxFailures: 1000 } } })
    await enrolledSession(h)
    const token = (await login(h, 'alice', TEST_PASSWORD)).json().mfa_token as string
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => mfa(h, token, String(200000 + i * 104729))))
    expect(results.every((r) => r.statusCode === 401)).toBe(true)
    const wrong = h.events.filter((e) => e.action === 'mfa-verify' && e.reason === 'wrong_code')
    expect(wrong.length).toBeLessThanOrEqual(3)
    expect(h.events.filter((e) => e.action === 'account-locked')).toHaveLength(1)
  })

  it('username variants share one counter, and disable ends the session', async () => {
    const h = await pgHarness({ auth: { lockout: { maxFailedAttempts: 3 } } })
    const { token } = await enrolledSession(h)
    expect((await h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })).statusCode).toBe(200)
    await h.auth.userAdmin.disableUser('ALICE')
    expect((await h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })).statusCode).toBe(401)
    await h.auth.userAdmin.enableUser('alice')
    for (const v of ['Alice', ' alice', 'ａｌｉｃｅ']) await login(h, v, 'wrong-wrong-wrong')
    expect((await h.store.failureState('alice')).lockedUntil).not.toBeNull()
  })
})
