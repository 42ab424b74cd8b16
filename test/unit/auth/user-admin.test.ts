import { afterEach, describe, expect, it } from 'vitest'
import { bearer, createHarness, enrolledSession, TEST_PASSWORD, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

describe('user administration', () => {
  it('adds users under their canonical name, with a configured role, and audits it', async () => {
    h = await createHarness()
    const { user, generatedPassword } = await h.auth.userAdmin.addUser('  ALICE ', 'user', TEST_PASSWORD)
    expect(generatedPassword).toBeNull()
    expect(user).toMatchObject({ username: 'alice', roles: ['user'], status: 'active', mfaEnrolled: false, failedCount: 0, lockedUntil: null })
    expect(h.events).toEqual([{ action: 'user-created', outcome: 'success', target: { userName: 'alice', role: 'user' } }])
    expect((await h.store.getUser('alice'))?.passwordHash).toMatch(/^\$argon2id\$/)
  })

  it('without a password one is generated, returned once, and works', async () => {
    h = await createHarness({ auth: { mfa: { requiredForRoles: ['admin'] } } })
    const { generatedPassword } = await h.auth.userAdmin.addUser('bob', 'user')
    expect(generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(JSON.stringify(h.events)).not.toContain(generatedPassword)
    const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'bob', password: generatedPassword } })
    expect(r.statusCode).toBe(200)
  })

  it('refuses unknown roles, bad names, duplicates and weak passwords with error codes', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await expect(h.auth.userAdmin.addUser('carl', 'superuser', TEST_PASSWORD)).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    await expect(h.auth.userAdmin.addUser('has space', 'user', TEST_PASSWORD)).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    await expect(h.auth.userAdmin.addUser('ＡＬＩＣＥ', 'user', TEST_PASSWORD)).rejects.toMatchObject({ code: 'GH_ERR_CONFLICT' })
    await expect(h.auth.userAdmin.addUser('dan', 'user', 'short')).rejects.toMatchObject({ code: 'GH_ERR_WEAK_PASSWORD' })
    await expect(h.auth.userAdmin.addUser('dan', 'user', 'unbelievable')).rejects.toMatchObject({ code: 'GH_ERR_WEAK_PASSWORD' })
    await expect(h.auth.userAdmin.setRole('alice', 'nope')).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    await expect(h.auth.userAdmin.disableUser('nobody')).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
    await expect(h.auth.userAdmin.setPassword('alice', 'password')).rejects.toMatchObject({ code: 'GH_ERR_WEAK_PASSWORD' })
  })

  it('a name that was tried before the account existed starts with a clean counter', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 1 } } })
    await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'eve', password: 'whatever-whatever' } })
    expect((await h.store.failureState('eve')).lockedUntil).not.toBeNull()
    const { user } = await h.auth.userAdmin.addUser('eve', 'user', TEST_PASSWORD)
    expect(user.lockedUntil).toBeNull()
  })

  it('lists users with status, MFA, last login, failures and lock', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 2 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await h.auth.userAdmin.addUser('bob', 'monitor', TEST_PASSWORD)
    await h.auth.userAdmin.disableUser('bob')
    for (let i = 0; i < 2; i++) await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'nope-nope-nope' } })
    const list = await h.auth.userAdmin.listUsers()
    expect(list.map((u) => [u.username, u.status, u.failedCount, u.lockedUntil !== null]).sort()).toEqual([
      ['alice', 'active', 2, true], ['bob', 'disabled', 0, false]
    ])
  })

  it('every change is audited with its target, and carries the actor when given', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    const actor = { userName: 'root', sourceIp: '192.0.2.1', requestId: 'r-1' }
    await h.auth.userAdmin.setRole('alice', 'monitor', actor)
    await h.auth.userAdmin.resetMfa('alice', actor)
    await h.auth.userAdmin.setPassword('alice', 'another-long-passphrase', actor)
    await h.auth.userAdmin.disableUser('alice', actor)
    await h.auth.userAdmin.enableUser('alice', actor)
    await h.auth.userAdmin.unlock('alice', actor)
    expect(h.events.slice(1).map((e) => [e.action, e.userName, e.sourceIp, e.requestId, e.target?.userName])).toEqual([
      ['role-changed', 'root', '192.0.2.1', 'r-1', 'alice'],
      ['mfa-reset', 'root', '192.0.2.1', 'r-1', 'alice'],
      ['password-changed', 'root', '192.0.2.1', 'r-1', 'alice'],
      ['user-disabled', 'root', '192.0.2.1', 'r-1', 'alice'],
      ['user-enabled', 'root', '192.0.2.1', 'r-1', 'alice'],
      ['account-unlocked', 'root', '192.0.2.1', 'r-1', 'alice']
    ])
    expect(JSON.stringify(h.events)).not.toContain('another-long-passphrase')
  })

  it('sessions: listed per user; revoking one ends it at once, is audited as an admin logout, and an unknown id is false', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    const tags = () => h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })
    expect((await tags()).statusCode).toBe(200)
    const sessions = await h.auth.userAdmin.listSessions(' ALICE ')
    expect(sessions).toHaveLength(1)
    const s = sessions[0] as (typeof sessions)[number]
    expect(Object.keys(s).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastSeenAt', 'revokedAt', 'sourceIp'])
    expect(s.revokedAt).toBeNull()
    const actor = { userName: 'root', sourceIp: '192.0.2.1', requestId: 'r-2' }
    expect(await h.auth.userAdmin.revokeSession(s.id, actor)).toBe(true)
    expect((await tags()).statusCode).toBe(401)
    expect((await h.auth.userAdmin.listSessions('alice'))[0]?.revokedAt).toBe(h.clock.now())
    expect(h.events.filter((e) => e.action === 'logout')).toEqual([
      { action: 'logout', outcome: 'success', ...actor, target: { userName: 'alice' }, reason: 'revoked-by-admin' }
    ])
    expect(await h.auth.userAdmin.revokeSession('no-such-session', actor)).toBe(false)
    await expect(h.auth.userAdmin.listSessions('nobody')).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
  })

  it('createKey parses the expiry itself: a duration, or BAD_REQUEST', async () => {
    h = await createHarness()
    const k = await h.auth.userAdmin.createKey({ name: 'loader', role: 'model-loader', expiresIn: '12h' })
    expect(k.record.expiresAt).toBe(h.clock.now() + 12 * 3_600_000)
    for (const bad of ['soon', '0d', '90', '999999y']) {
      await expect(h.auth.userAdmin.createKey({ name: 'x', role: 'user', expiresIn: bad }), bad).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
    }
    expect(h.events.filter((e) => e.action === 'key-created')).toHaveLength(1)
  })

  it('listUsers reads the counters from the user record (no per-user failure lookups)', async () => {
    h = await createHarness({ auth: { lockout: { maxFailedAttempts: 2, lockoutSeconds: 900 } } })
    await h.auth.userAdmin.addUser('alice', 'user', TEST_PASSWORD)
    await h.auth.userAdmin.addUser('bob', 'user', TEST_PASSWORD)
    for (let i = 0; i < 2; i++) await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'nope-nope-nope' } })
    let lookups = 0
    const original = h.store.failureState
    h.store.failureState = async (name) => { lookups++; return original(name) }
    const list = await h.auth.userAdmin.listUsers()
    expect(lookups).toBe(0)
    expect(list.find((u) => u.username === 'alice')).toMatchObject({ failedCount: 2, lockedUntil: h.clock.now() + 900_000 })
    // unlock answers with the cleared counter
    expect(await h.auth.userAdmin.unlock('alice')).toMatchObject({ failedCount: 0, lockedUntil: null })
  })

  it('keys: create with expiry, list, revoke', async () => {
    h = await createHarness()
    const a = await h.auth.userAdmin.createKey({ name: 'loader', role: 'model-loader', expiresIn: '1d' })
    const b = await h.auth.userAdmin.createKey({ name: 'mon', role: 'monitor', expiresIn: null })
    expect(a.record.expiresAt).toBe(h.clock.now() + 86_400_000)
    await h.auth.userAdmin.revokeKey(b.record.id)
    h.clock.advance(86_400_000)
    const list = await h.auth.userAdmin.listKeys()
    expect(list.map((k) => [k.name, k.status]).sort()).toEqual([['loader', 'expired'], ['mon', 'revoked']])
    expect(JSON.stringify(list)).not.toContain(a.key)
  })
})
