// Security regressions: a session ends on the very next request after logout, disable, role
// change, MFA reset or password change, and the server enforces the absolute and idle limits even
// though signature checks are cached.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, enrolledSession, bearer, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'
import { totpCodeAt } from '../helpers/totp.js'

let h: Harness
afterEach(async () => { await h.close() })

const tags = (token: string) => h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })
const lastRejection = () => h.events.filter((e) => e.action === 'token-rejected').at(-1)?.reason

describe('session revocation', () => {
  it('a token after logout is rejected (even though its signature check is cached)', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    expect((await tags(token)).statusCode).toBe(200) // now cached
    expect((await h.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) })).statusCode).toBe(204)
    expect((await tags(token)).statusCode).toBe(401)
    expect(lastRejection()).toBe('session_revoked')
  })

  it('a token after the user is disabled is rejected, and enabling again does not revive it', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    expect((await tags(token)).statusCode).toBe(200)
    await h.auth.userAdmin.disableUser('alice')
    expect((await tags(token)).statusCode).toBe(401)
    await h.auth.userAdmin.enableUser('alice')
    expect((await tags(token)).statusCode).toBe(401)
    expect(h.events.map((e) => e.action)).toEqual(expect.arrayContaining(['user-disabled', 'user-enabled']))
  })

  it('a token after a role change is rejected', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    expect((await tags(token)).statusCode).toBe(200)
    await h.auth.userAdmin.setRole('alice', 'admin')
    expect((await tags(token)).statusCode).toBe(401)
    expect(h.events.find((e) => e.action === 'role-changed')?.target).toEqual({ userName: 'alice', role: 'admin' })
  })

  it('a token after an MFA reset is rejected, and the next login must enroll again', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    await h.auth.userAdmin.resetMfa('alice')
    expect((await tags(token)).statusCode).toBe(401)
    const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: TEST_PASSWORD } })
    expect(r.json().status).toBe('mfa_enrollment_required')
  })

  it('a token after a password change is rejected', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    await h.auth.userAdmin.setPassword('alice', 'a-brand-new-passphrase')
    expect((await tags(token)).statusCode).toBe(401)
  })

  it('the epoch alone ends sessions even if the session rows were not revoked', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    await h.store.updateUser('alice', { bumpEpoch: true }, h.clock.now())
    expect((await tags(token)).statusCode).toBe(401)
    expect(lastRejection()).toBe('session_epoch_changed')
  })

  it('an outstanding mfa_token dies with a password change', async () => {
    h = await createHarness()
    const { secret } = await enrolledSession(h)
    const mt = (await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: TEST_PASSWORD } })).json().mfa_token
    await h.auth.userAdmin.setPassword('alice', 'a-brand-new-passphrase')
    const r = await h.app.inject({ method: 'POST', url: '/auth/mfa', payload: { mfa_token: mt, code: await totpCodeAt(secret, h.clock.now()) } })
    expect(r.statusCode).toBe(401)
  })

  it('idleTimeoutSeconds of inactivity ends a session; activity keeps it alive', async () => {
    h = await createHarness({ auth: { idleTimeoutSeconds: 300, sessionTtlSeconds: 3600 } })
    const { token } = await enrolledSession(h)
    expect((await tags(token)).statusCode).toBe(200)
    for (let i = 0; i < 4; i++) {
      h.clock.advance(290_000)
      expect((await tags(token)).statusCode, `after ${(i + 1) * 290}s`).toBe(200)
    }
    h.clock.advance(300_000)
    expect((await tags(token)).statusCode).toBe(401)
    expect(lastRejection()).toBe('session_idle')
  })

  it('sessionTtlSeconds is an absolute limit, however active the session', async () => {
    h = await createHarness({ auth: { idleTimeoutSeconds: 300, sessionTtlSeconds: 900 } })
    const { token } = await enrolledSession(h)
    for (let t = 0; t < 840; t += 120) {
      h.clock.advance(120_000)
      expect((await tags(token)).statusCode, `at ${t + 120}s`).toBe(200)
    }
    h.clock.advance(60_000) // 30 s of enrollment step + 900 s
    expect((await tags(token)).statusCode).toBe(401)
  })

  it('/admin/* accepts a session', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h, 'root', 'admin')
    const r = await h.app.inject({ method: 'GET', url: '/admin/users', headers: bearer(token) })
    expect(r.statusCode).toBe(200)
    expect(r.json().identity).toMatchObject({ credential: 'session', name: 'root', roles: ['admin'], amr: ['pwd', 'otp'] })
  })
})
