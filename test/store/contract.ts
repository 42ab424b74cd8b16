// The behaviour every Store backend must have, run by sqlite.test.ts and postgres.test.ts.
// The concurrency cases fire many calls at once (Promise.all); on PostgreSQL they spread over
// several pool connections, so they exercise the database's row locking, not JavaScript's turn-taking.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StoreBackend, UsageGroup, UsageRecord } from '../../src/store/types.js'

export interface ContractOptions {
  /** a second, independent handle (its own connections) on the same database as `store` */
  openAnother?: (store: StoreBackend) => Promise<StoreBackend>
}

const T = Date.UTC(2026, 0, 1)
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'
const MIN = 60_000
const HOUR = 60 * MIN

async function codeOf (p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return (err as { code?: unknown }).code
  }
  return 'no error'
}

export function storeContractTests (name: string, makeStore: () => Promise<StoreBackend>, opts: ContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let store: StoreBackend
    const others: StoreBackend[] = []
    beforeEach(async () => { store = await makeStore() })
    afterEach(async () => {
      for (const o of others.splice(0)) await o.close()
      await store.close()
    })
    // cases needing a second handle exist only for backends that can open one (not :memory:)
    const itShared = opts.openAnother ? it : () => {}
    const another = async (): Promise<StoreBackend> => {
      if (!opts.openAnother) throw new Error('no openAnother')
      const o = await opts.openAnother(store)
      others.push(o)
      return o
    }

    describe('migrations and health', () => {
      it('migrate() is idempotent and keeps the data', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        await store.migrate()
        await store.migrate()
        expect((await store.getUser('alice'))?.username).toBe('alice')
      })

      it('ping() answers true while open and false once closed', async () => {
        expect(await store.ping()).toBe(true)
        await store.close()
        expect(await store.ping()).toBe(false)
        store = await makeStore() // afterEach closes this one
      })
    })

    describe('users', () => {
      it('a new user is active, not enrolled, epoch 0, with no failures', async () => {
        const u = await store.createUser({ username: 'alice', roles: ['admin', 'user'], passwordHash: HASH }, T)
        expect(u).toMatchObject({
          username: 'alice',
          roles: ['admin', 'user'],
          status: 'active',
          passwordHash: HASH,
          totpSecretEnc: null,
          totpEnrolled: false,
          totpLastStep: null,
          passwordMustChange: false,
          sessionEpoch: 0,
          failedCount: 0,
          lockedUntil: null,
          lastLoginAt: null,
          createdAt: T,
          updatedAt: T
        })
        expect(u.id).toMatch(/.{8,}/)
        expect(await store.getUser('alice')).toEqual(u)
      })

      it('a one-time password is marked must-change at creation and cleared by a patch, in the same row', async () => {
        const u = await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH, passwordMustChange: true }, T)
        expect(u.passwordMustChange).toBe(true)
        expect((await store.getUser('alice'))?.passwordMustChange).toBe(true)
        const s = { id: 'sess-otp', username: 'alice', createdAt: T, expiresAt: T + 60_000, lastSeenAt: T, sourceIp: '127.0.0.1' }
        await store.createSession(s)
        expect((await store.getSessionWithUser('sess-otp'))?.user?.passwordMustChange).toBe(true)
        const after = await store.updateUser('alice', { passwordHash: 'new', passwordMustChange: false }, T + 1)
        expect(after).toMatchObject({ passwordHash: 'new', passwordMustChange: false })
        expect((await store.getUser('alice'))?.passwordMustChange).toBe(false)
        expect((await store.updateUser('alice', { passwordMustChange: true }, T + 2))?.passwordMustChange).toBe(true)
      })

      it('a duplicate username is a GH_ERR_CONFLICT and changes nothing', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        expect(await codeOf(store.createUser({ username: 'alice', roles: ['admin'], passwordHash: 'other' }, T + 1))).toBe('GH_ERR_CONFLICT')
        expect((await store.getUser('alice'))?.roles).toEqual(['user'])
        expect(await store.countUsers()).toBe(1)
      })

      it('lookups are exact: the store never canonicalizes names', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        expect(await store.getUser('Alice')).toBeNull()
        expect(await store.getUser('nobody')).toBeNull()
      })

      it('names with SQL metacharacters are data, never SQL', async () => {
        const evil = "x' OR '1'='1; DROP TABLE users; --"
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        expect(await store.getUser(evil)).toBeNull()
        await store.createUser({ username: evil, roles: ["r'ole"], passwordHash: HASH }, T)
        expect(await store.getUser(evil)).toMatchObject({ username: evil, roles: ["r'ole"] })
        expect(await store.countUsers()).toBe(2)
      })

      it('a user is `local` unless created as `oidc`, and the source survives reads, lists and updates', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        await store.createUser({ username: 'sso-bob', roles: ['user'], passwordHash: '', source: 'oidc' }, T)
        expect((await store.getUser('alice'))?.source).toBe('local')
        expect((await store.getUser('sso-bob'))?.source).toBe('oidc')
        expect((await store.getUser('sso-bob'))?.passwordHash).toBe('')
        await store.updateUser('sso-bob', { roles: ['admin'], bumpEpoch: true }, T + 1)
        expect((await store.listUsers()).map((u) => [u.username, u.source, u.roles])).toEqual([
          ['alice', 'local', ['user']], ['sso-bob', 'oidc', ['admin']]
        ])
      })

      it('listUsers is sorted by name and countUsers counts', async () => {
        for (const n of ['carol', 'alice', 'bob']) await store.createUser({ username: n, roles: ['user'], passwordHash: HASH }, T)
        expect((await store.listUsers()).map((u) => u.username)).toEqual(['alice', 'bob', 'carol'])
        expect(await store.countUsers()).toBe(3)
      })

      it('updateUser applies exactly the patch, stamps updatedAt and bumps the epoch on request', async () => {
        const before = await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        const after = await store.updateUser('alice', {
          roles: ['admin'],
          status: 'disabled',
          totpSecretEnc: 'c2VjcmV0',
          totpEnrolled: true,
          totpLastStep: 42,
          lastLoginAt: T + 5,
          bumpEpoch: true
        }, T + 10)
        expect(after).toEqual({
          ...before,
          roles: ['admin'],
          status: 'disabled',
          totpSecretEnc: 'c2VjcmV0',
          totpEnrolled: true,
          totpLastStep: 42,
          lastLoginAt: T + 5,
          sessionEpoch: 1,
          updatedAt: T + 10
        })
        const again = await store.updateUser('alice', { passwordHash: 'new', totpSecretEnc: null, totpEnrolled: false, totpLastStep: null, bumpEpoch: true }, T + 20)
        expect(again).toMatchObject({ passwordHash: 'new', totpSecretEnc: null, totpEnrolled: false, totpLastStep: null, sessionEpoch: 2, roles: ['admin'] })
        expect(await store.getUser('alice')).toEqual(again)
      })

      it('updateUser of an unknown user returns null and creates nothing', async () => {
        expect(await store.updateUser('ghost', { status: 'disabled', failedCount: 0, lockedUntil: null }, T)).toBeNull()
        expect(await store.countUsers()).toBe(0)
        expect(await store.failureState('ghost')).toEqual({ failedCount: 0, lockedUntil: null })
      })

      it('updateUser can unlock: failedCount and lockedUntil are writable', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        await store.recordFailure('alice', 2, MIN, T)
        await store.recordFailure('alice', 2, MIN, T)
        expect((await store.getUser('alice'))?.lockedUntil).toBe(T + MIN)
        const u = await store.updateUser('alice', { failedCount: 0, lockedUntil: null }, T + 1)
        expect(u).toMatchObject({ failedCount: 0, lockedUntil: null })
        expect(await store.failureState('alice')).toEqual({ failedCount: 0, lockedUntil: null })
        // the counter starts over: the next lock needs max fresh failures
        expect((await store.recordFailure('alice', 2, MIN, T + 2)).justLocked).toBe(false)
        expect((await store.recordFailure('alice', 2, MIN, T + 3))).toEqual({ failedCount: 2, lockedUntil: T + 3 + MIN, justLocked: true })
      })
    })

    describe('recordFailure (lockout counter)', () => {
      it('counts failures and locks exactly when max is reached', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        expect(await store.recordFailure('alice', 3, MIN, T)).toEqual({ failedCount: 1, lockedUntil: null, justLocked: false })
        expect(await store.recordFailure('alice', 3, MIN, T + 1)).toEqual({ failedCount: 2, lockedUntil: null, justLocked: false })
        expect(await store.recordFailure('alice', 3, MIN, T + 2)).toEqual({ failedCount: 3, lockedUntil: T + 2 + MIN, justLocked: true })
        expect(await store.failureState('alice')).toEqual({ failedCount: 3, lockedUntil: T + 2 + MIN })
        expect(await store.getUser('alice')).toMatchObject({ failedCount: 3, lockedUntil: T + 2 + MIN })
      })

      it('an active lock is neither extended nor re-announced', async () => {
        for (let i = 0; i < 3; i++) await store.recordFailure('alice', 3, MIN, T)
        expect(await store.recordFailure('alice', 3, MIN, T + 1000)).toEqual({ failedCount: 4, lockedUntil: T + MIN, justLocked: false })
      })

      it('after a lock expires, the next failure starts a fresh run at 1 (no lock until max more)', async () => {
        for (let i = 0; i < 3; i++) await store.recordFailure('alice', 3, MIN, T)
        expect(await store.recordFailure('alice', 3, MIN, T + MIN)).toEqual({ failedCount: 1, lockedUntil: null, justLocked: false })
        expect(await store.recordFailure('alice', 3, MIN, T + MIN + 1)).toEqual({ failedCount: 2, lockedUntil: null, justLocked: false })
        expect(await store.recordFailure('alice', 3, MIN, T + MIN + 2)).toEqual({ failedCount: 3, lockedUntil: T + 2 * MIN + 2, justLocked: true })
      })

      it('max 1 locks on the first failure', async () => {
        expect(await store.recordFailure('bob', 1, MIN, T)).toEqual({ failedCount: 1, lockedUntil: T + MIN, justLocked: true })
      })

      it('unknown usernames get the same counter and lock as real ones (shadow counter)', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        const real: unknown[] = []
        const ghost: unknown[] = []
        for (let i = 0; i < 4; i++) {
          real.push(await store.recordFailure('alice', 3, MIN, T + i))
          ghost.push(await store.recordFailure('nobody', 3, MIN, T + i))
        }
        expect(ghost).toEqual(real)
        expect(await store.failureState('nobody')).toEqual(await store.failureState('alice'))
        expect(await store.getUser('nobody')).toBeNull()
        expect(await store.countUsers()).toBe(1)
      })

      it('resetFailures clears the count and the lock, known or not', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        for (const n of ['alice', 'nobody']) {
          for (let i = 0; i < 3; i++) await store.recordFailure(n, 3, MIN, T)
          await store.resetFailures(n)
          expect(await store.failureState(n)).toEqual({ failedCount: 0, lockedUntil: null })
        }
        expect(await store.getUser('alice')).toMatchObject({ failedCount: 0, lockedUntil: null })
      })

      it('counters are per username', async () => {
        await store.recordFailure('alice', 3, MIN, T)
        expect(await store.failureState('bob')).toEqual({ failedCount: 0, lockedUntil: null })
      })

      it('N parallel failures count exactly N and exactly one of them locks', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        const N = 40
        const max = 7
        for (const username of ['alice', 'nobody']) {
          const results = await Promise.all(Array.from({ length: N }, async () => await store.recordFailure(username, max, MIN, T)))
          expect(results.map((r) => r.failedCount).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1))
          expect(results.filter((r) => r.justLocked)).toEqual([{ failedCount: max, lockedUntil: T + MIN, justLocked: true }])
          for (const r of results) expect(r.lockedUntil).toBe(r.failedCount >= max ? T + MIN : null)
          expect(await store.failureState(username)).toEqual({ failedCount: N, lockedUntil: T + MIN })
        }
      })

      itShared('parallel failures through two independent handles still count exactly', async () => {
        const b = await another()
        const N = 30
        const results = await Promise.all(Array.from({ length: N }, async (_, i) => await (i % 2 === 0 ? store : b).recordFailure('alice', 10, MIN, T)))
        expect(results.filter((r) => r.justLocked)).toHaveLength(1)
        expect(await b.failureState('alice')).toEqual({ failedCount: N, lockedUntil: T + MIN })
      })
    })

    describe('claimTotpStep (replay guard)', () => {
      beforeEach(async () => { await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T) })

      it('accepts a step once, and never an equal or earlier one', async () => {
        expect(await store.claimTotpStep('alice', 100, T)).toBe(true)
        expect(await store.claimTotpStep('alice', 100, T)).toBe(false)
        expect(await store.claimTotpStep('alice', 99, T)).toBe(false)
        expect(await store.claimTotpStep('alice', 101, T + 1)).toBe(true)
        expect(await store.getUser('alice')).toMatchObject({ totpLastStep: 101, updatedAt: T + 1 })
      })

      it('an unknown user claims nothing', async () => {
        expect(await store.claimTotpStep('nobody', 1, T)).toBe(false)
        expect(await store.getUser('nobody')).toBeNull()
      })

      it('many parallel claims of one step have exactly one winner', async () => {
        const wins = await Promise.all(Array.from({ length: 30 }, async () => await store.claimTotpStep('alice', 500, T)))
        expect(wins.filter(Boolean)).toHaveLength(1)
        expect((await store.getUser('alice'))?.totpLastStep).toBe(500)
      })

      it('parallel claims of mixed steps never move the last step backwards', async () => {
        await store.claimTotpStep('alice', 100, T)
        const steps = Array.from({ length: 40 }, (_, i) => 80 + ((i * 7) % 40)) // 80..119, shuffled
        const wins = await Promise.all(steps.map(async (s) => ({ s, ok: await store.claimTotpStep('alice', s, T) })))
        expect(wins.filter((w) => w.ok && w.s <= 100)).toEqual([])
        expect(wins.some((w) => w.ok)).toBe(true)
        expect((await store.getUser('alice'))?.totpLastStep).toBe(119)
      })

      itShared('a step claimed through one handle is a replay through another', async () => {
        const b = await another()
        const wins = await Promise.all(Array.from({ length: 20 }, async (_, i) => await (i % 2 === 0 ? store : b).claimTotpStep('alice', 7, T)))
        expect(wins.filter(Boolean)).toHaveLength(1)
      })
    })

    describe('sessions', () => {
      const s = (id: string, username = 'alice') => ({ id, username, createdAt: T, expiresAt: T + 60 * MIN, lastSeenAt: T, sourceIp: '192.0.2.1' })

      it('a created session reads back whole, not revoked', async () => {
        await store.createSession(s('j1'))
        expect(await store.getSession('j1')).toEqual({ ...s('j1'), revokedAt: null })
        expect(await store.getSession('nope')).toBeNull()
      })

      it('getSessionWithUser reads the session and its current user (failures included) in one go', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        await store.createSession(s('j1'))
        await store.createSession(s('j2', 'ghost'))
        await store.updateUser('alice', { bumpEpoch: true }, T + 1)
        await store.recordFailure('alice', 5, 60_000, T + 2)
        const found = await store.getSessionWithUser('j1')
        expect(found?.session).toEqual(await store.getSession('j1'))
        expect(found?.user).toEqual(await store.getUser('alice'))
        expect(found?.user).toMatchObject({ sessionEpoch: 1, failedCount: 1 })
        await store.revokeSession('j1', T + 3)
        expect((await store.getSessionWithUser('j1'))?.session.revokedAt).toBe(T + 3)
        // a session whose user is gone still reads back, with no user; an unknown id is null
        expect(await store.getSessionWithUser('j2')).toEqual({ session: { ...s('j2', 'ghost'), revokedAt: null }, user: null })
        expect(await store.getSessionWithUser('nope')).toBeNull()
      })

      it('a duplicate jti is a GH_ERR_CONFLICT', async () => {
        await store.createSession(s('j1'))
        expect(await codeOf(store.createSession(s('j1', 'bob')))).toBe('GH_ERR_CONFLICT')
      })

      it('touchSession moves lastSeenAt forward only', async () => {
        await store.createSession(s('j1'))
        await store.touchSession('j1', T + 5)
        await store.touchSession('j1', T + 3)
        expect((await store.getSession('j1'))?.lastSeenAt).toBe(T + 5)
      })

      it('revokeSession is visible at once and reports only the first revocation', async () => {
        await store.createSession(s('j1'))
        expect(await store.revokeSession('j1', T + 1)).toBe(true)
        expect((await store.getSession('j1'))?.revokedAt).toBe(T + 1)
        expect(await store.revokeSession('j1', T + 2)).toBe(false)
        expect((await store.getSession('j1'))?.revokedAt).toBe(T + 1)
        expect(await store.revokeSession('nope', T)).toBe(false)
      })

      it('revokeUserSessions ends every live session of that user only', async () => {
        for (const id of ['a1', 'a2', 'a3']) await store.createSession(s(id))
        await store.createSession(s('b1', 'bob'))
        await store.revokeSession('a1', T + 1)
        expect(await store.revokeUserSessions('alice', T + 2)).toBe(2)
        expect((await store.listSessions('alice')).map((x) => [x.id, x.revokedAt])).toEqual([['a1', T + 1], ['a2', T + 2], ['a3', T + 2]])
        expect((await store.getSession('b1'))?.revokedAt).toBeNull()
      })

      itShared('a revocation through one handle is seen by another on the very next read', async () => {
        const b = await another()
        await store.createSession(s('j1'))
        expect((await b.getSession('j1'))?.revokedAt).toBeNull()
        await store.revokeSession('j1', T + 1)
        expect((await b.getSession('j1'))?.revokedAt).toBe(T + 1)
        await store.createSession(s('j2'))
        await b.revokeUserSessions('alice', T + 2)
        expect((await store.getSession('j2'))?.revokedAt).toBe(T + 2)
      })

      it('parallel revocations of one session: exactly one reports it', async () => {
        await store.createSession(s('j1'))
        const r = await Promise.all(Array.from({ length: 20 }, async (_, i) => await store.revokeSession('j1', T + i)))
        expect(r.filter(Boolean)).toHaveLength(1)
      })
    })

    describe('API keys', () => {
      const k = (hash: string, expiresAt: number | null = null) => ({ name: 'ci', role: 'user', keyHash: hash, prefix: hash.slice(0, 8), expiresAt })

      it('a created key reads back by id and by hash', async () => {
        const key = await store.createApiKey(k('a'.repeat(64), T + MIN), T)
        expect(key).toMatchObject({ name: 'ci', role: 'user', keyHash: 'a'.repeat(64), prefix: 'aaaaaaaa', createdAt: T, expiresAt: T + MIN, lastUsedAt: null, revokedAt: null })
        expect(await store.getApiKey(key.id)).toEqual(key)
        expect(await store.getApiKeyByHash('a'.repeat(64))).toEqual(key)
        expect(await store.getApiKeyByHash('b'.repeat(64))).toBeNull()
        expect(await store.getApiKey('nope')).toBeNull()
      })

      it('ids are unique and a duplicate hash is a GH_ERR_CONFLICT', async () => {
        const a = await store.createApiKey(k('a'.repeat(64)), T)
        const b = await store.createApiKey(k('b'.repeat(64)), T + 1)
        expect(a.id).not.toBe(b.id)
        expect(await codeOf(store.createApiKey(k('a'.repeat(64)), T + 2))).toBe('GH_ERR_CONFLICT')
        expect((await store.listApiKeys()).map((x) => x.id)).toEqual([a.id, b.id])
      })

      it('revokeApiKey is immediate and reports only the first revocation; touch records use', async () => {
        const a = await store.createApiKey(k('a'.repeat(64)), T)
        await store.touchApiKey(a.id, T + 1)
        expect(await store.revokeApiKey(a.id, T + 2)).toBe(true)
        expect(await store.revokeApiKey(a.id, T + 3)).toBe(false)
        expect(await store.getApiKeyByHash('a'.repeat(64))).toMatchObject({ lastUsedAt: T + 1, revokedAt: T + 2 })
        expect(await store.revokeApiKey('nope', T)).toBe(false)
      })

      it('setApiKeyGrace marks a live key replaced once; a revoked or already replaced key is refused', async () => {
        const a = await store.createApiKey(k('a'.repeat(64)), T)
        const b = await store.createApiKey(k('b'.repeat(64)), T + 1)
        const c = await store.createApiKey(k('c'.repeat(64)), T + 2)
        expect(a).toMatchObject({ graceUntil: null, replacedBy: null })
        expect(await store.setApiKeyGrace(a.id, T + HOUR, b.id)).toBe(true)
        expect(await store.getApiKey(a.id)).toMatchObject({ graceUntil: T + HOUR, replacedBy: b.id, revokedAt: null })
        expect(await store.setApiKeyGrace(a.id, T + 2 * HOUR, c.id)).toBe(false)
        expect(await store.getApiKey(a.id)).toMatchObject({ graceUntil: T + HOUR, replacedBy: b.id })
        await store.revokeApiKey(c.id, T + 3)
        expect(await store.setApiKeyGrace(c.id, T + HOUR, b.id)).toBe(false)
        expect(await store.setApiKeyGrace('nope', T, b.id)).toBe(false)
      })
    })

    describe('usage records', () => {
      const DAY = 86_400_000
      const rec = (over: Partial<UsageRecord> = {}): UsageRecord => ({
        at: T, identity: 'alice', credential: 'session', role: 'user', model: 'llama3.2:latest', upstream: 'gpu-a',
        inputTokens: 7, outputTokens: 4, durationMs: 12, status: 200, incomplete: false, ...over
      })

      it('records sum by user, key, model, upstream and UTC day from a time on', async () => {
        await store.insertUsage([
          rec(),
          rec({ at: T + 1, inputTokens: 1, outputTokens: 2, model: 'qwen2.5:7b', upstream: 'gpu-b' }),
          rec({ at: T + DAY, identity: 'ci-bot', credential: 'api_key', inputTokens: 100, outputTokens: 0, model: null, upstream: null }),
          rec({ at: T - 1, inputTokens: 1000, outputTokens: 1000 })
        ])
        const sums = (g: UsageGroup) => [g.group, g.requests, g.inputTokens, g.outputTokens]
        expect((await store.usageSummary(T, 'user')).map(sums)).toEqual([['alice', 2, 8, 6]])
        expect((await store.usageSummary(T, 'key')).map(sums)).toEqual([['ci-bot', 1, 100, 0]])
        const models = (await store.usageSummary(T, 'model')).map(sums)
        expect(models).toHaveLength(3)
        expect(models).toEqual(expect.arrayContaining([['llama3.2:latest', 1, 7, 4], ['qwen2.5:7b', 1, 1, 2], [null, 1, 100, 0]]))
        expect((await store.usageSummary(T, 'upstream')).map(sums)).toEqual(expect.arrayContaining([['gpu-a', 1, 7, 4], ['gpu-b', 1, 1, 2]]))
        expect((await store.usageSummary(T, 'day')).map(sums))
          .toEqual([[String(Math.floor(T / DAY)), 2, 8, 6], [String(Math.floor(T / DAY) + 1), 1, 100, 0]])
        expect(await store.usageSummary(T + 2 * DAY, 'user')).toEqual([])
      })

      it('usageOf sums one identity of one kind; a user and a key of one name stay apart', async () => {
        await store.insertUsage([rec(), rec({ credential: 'api_key', inputTokens: 50 }), rec({ at: T - 1 })])
        expect(await store.usageOf('session', 'alice', T)).toEqual({ group: null, requests: 1, inputTokens: 7, outputTokens: 4 })
        expect(await store.usageOf('api_key', 'alice', T)).toEqual({ group: null, requests: 1, inputTokens: 50, outputTokens: 4 })
        expect(await store.usageOf('session', 'nobody', T)).toEqual({ group: null, requests: 0, inputTokens: 0, outputTokens: 0 })
      })

      it('a batch larger than one statement can bind (PostgreSQL: 65,535 parameters) is stored whole', async () => {
        const n = 6_500
        await store.insertUsage(Array.from({ length: n }, (_, i) => rec({ at: T + i })))
        expect((await store.usageSummary(0, 'user')).map((g) => g.requests)).toEqual([n])
      })

      it('deleteUsageBefore removes only older records; an empty batch is a no-op', async () => {
        await store.insertUsage([])
        await store.insertUsage([rec({ at: T - DAY }), rec({ at: T }), rec({ at: T + 1, incomplete: true })])
        expect(await store.deleteUsageBefore(T)).toBe(1)
        expect(await store.deleteUsageBefore(T)).toBe(0)
        expect((await store.usageSummary(0, 'user')).map((g) => g.requests)).toEqual([2])
      })
    })

    describe('retention', () => {
      const sess = (id: string, username: string, expiresAt: number) =>
        ({ id, username, createdAt: T, expiresAt, lastSeenAt: T, sourceIp: '192.0.2.1' })
      const key = (hash: string, expiresAt: number | null = null) =>
        ({ name: 'ci', role: 'user', keyHash: hash, prefix: hash.slice(0, 8), expiresAt })

      it('purgeEnded deletes sessions and keys that ended before the cut-off, and nothing live', async () => {
        await store.createSession(sess('expired-long-ago', 'alice', T + MIN))
        await store.createSession(sess('revoked-long-ago', 'alice', T + 600 * MIN))
        await store.revokeSession('revoked-long-ago', T + 2 * MIN)
        await store.createSession(sess('expired-recently', 'alice', T + 20 * MIN))
        await store.createSession(sess('live', 'bob', T + 600 * MIN))
        const revoked = await store.createApiKey(key('a'.repeat(64)), T)
        await store.revokeApiKey(revoked.id, T + MIN)
        const expired = await store.createApiKey(key('b'.repeat(64), T + 2 * MIN), T)
        const forever = await store.createApiKey(key('c'.repeat(64)), T)
        const later = await store.createApiKey(key('d'.repeat(64), T + 600 * MIN), T)
        // rotated out: its grace ended before the cut-off (its successor is live and stays)
        const rotatedOut = await store.createApiKey(key('e'.repeat(64)), T)
        expect(await store.setApiKeyGrace(rotatedOut.id, T + 3 * MIN, forever.id)).toBe(true)
        expect(await store.purgeEnded(T + 10 * MIN)).toEqual({ sessions: 2, apiKeys: 3 })
        expect(await store.getApiKey(rotatedOut.id)).toBeNull()
        expect(await store.getSession('expired-long-ago')).toBeNull()
        expect(await store.getSession('revoked-long-ago')).toBeNull()
        expect(await store.getSession('expired-recently')).not.toBeNull()
        expect(await store.getSession('live')).not.toBeNull()
        expect(await store.getApiKey(revoked.id)).toBeNull()
        expect(await store.getApiKey(expired.id)).toBeNull()
        expect((await store.listApiKeys()).map((k) => k.id).sort()).toEqual([forever.id, later.id].sort())
        expect(await store.purgeEnded(T + 10 * MIN)).toEqual({ sessions: 0, apiKeys: 0 })
      })

      it('deleteUser removes the account, its TOTP secret, sessions and failure counter, and no one else\'s', async () => {
        await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T)
        await store.createUser({ username: 'bob', roles: ['user'], passwordHash: HASH }, T)
        await store.updateUser('alice', { totpSecretEnc: 'sealed', totpEnrolled: true }, T + 1)
        await store.recordFailure('alice', 5, 60_000, T + 2)
        await store.recordFailure('bob', 5, 60_000, T + 2)
        await store.createSession(sess('a1', 'alice', T + 60 * MIN))
        await store.createSession(sess('a2', 'alice', T + 60 * MIN))
        await store.createSession(sess('b1', 'bob', T + 60 * MIN))
        expect(await store.deleteUser('alice')).toEqual({ sessions: 2 })
        expect(await store.getUser('alice')).toBeNull()
        expect(await store.failureState('alice')).toEqual({ failedCount: 0, lockedUntil: null })
        expect(await store.listSessions('alice')).toEqual([])
        expect(await store.getSession('a1')).toBeNull()
        expect(await store.getUser('bob')).toMatchObject({ failedCount: 1 })
        expect(await store.getSession('b1')).not.toBeNull()
        expect(await store.deleteUser('alice')).toBeNull()
        // the name can be used again, from scratch
        expect(await store.createUser({ username: 'alice', roles: ['user'], passwordHash: HASH }, T + 3))
          .toMatchObject({ totpSecretEnc: null, totpEnrolled: false })
      })
    })
  })
}
