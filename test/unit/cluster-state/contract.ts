// The behaviour every SharedState backend must have (memory, SQLite- and PostgreSQL-backed, Redis).
// Times are synthetic epoch ms: every backend decides with the caller's `now`, so expiry is tested
// without sleeping. `shared` backends must also show one instance's writes to another at once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SharedState } from '../../../src/cluster-state/types.js'

export interface SharedStateContractOptions {
  /** two instances made with the same prefix see the same data (everything but memory) */
  shared: boolean
}

const T = Date.UTC(2026, 0, 1)
const N = 40

export function sharedStateContractTests (
  name: string,
  make: (prefix: string) => Promise<SharedState>,
  opts: SharedStateContractOptions
): void {
  describe(`SharedState contract: ${name}`, () => {
    let run = 0
    let prefix: string
    let s: SharedState
    const opened: SharedState[] = []
    const open = async (p = prefix): Promise<SharedState> => {
      const x = await make(p)
      opened.push(x)
      return x
    }
    beforeEach(async () => {
      prefix = `t${run++}:`
      s = await open()
    })
    afterEach(async () => { for (const x of opened.splice(0)) await x.close() })
    const itShared = opts.shared ? it : () => {}

    describe('hit (window counter)', () => {
      it('counts hits within a window that starts at the first hit, then starts over', async () => {
        expect(await s.hit('ip:1', 1000, T)).toEqual({ count: 1, resetAt: T + 1000 })
        expect(await s.hit('ip:1', 1000, T + 500)).toEqual({ count: 2, resetAt: T + 1000 })
        expect(await s.hit('ip:1', 1000, T + 999)).toEqual({ count: 3, resetAt: T + 1000 })
        expect(await s.hit('ip:1', 1000, T + 1000)).toEqual({ count: 1, resetAt: T + 2000 })
      })

      it('keys count independently', async () => {
        await s.hit('ip:1', 1000, T)
        expect(await s.hit('ip:2', 1000, T)).toEqual({ count: 1, resetAt: T + 1000 })
      })

      it('N parallel hits get the counts 1..N, each exactly once', async () => {
        const r = await Promise.all(Array.from({ length: N }, async () => await s.hit('user:alice', 60_000, T)))
        expect(r.map((x) => x.count).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1))
        expect(new Set(r.map((x) => x.resetAt))).toEqual(new Set([T + 60_000]))
      })

      itShared('two instances count into one window', async () => {
        const b = await open()
        await s.hit('ip:9', 1000, T)
        expect((await b.hit('ip:9', 1000, T + 1)).count).toBe(2)
      })
    })

    describe('acquire (concurrency slots)', () => {
      it('grants up to limit slots; a release frees one', async () => {
        const leases = []
        for (let i = 0; i < 3; i++) leases.push(await s.acquire('streams:alice', 3, 60_000, T))
        expect(leases.map((l) => l.ok)).toEqual([true, true, true])
        expect((await s.acquire('streams:alice', 3, 60_000, T)).ok).toBe(false)
        await leases[0]?.release()
        expect((await s.acquire('streams:alice', 3, 60_000, T)).ok).toBe(true)
        expect((await s.acquire('streams:bob', 3, 60_000, T)).ok).toBe(true)
      })

      it('release is idempotent: a second release does not free someone else\'s slot', async () => {
        const a = await s.acquire('k', 2, 60_000, T)
        await s.acquire('k', 2, 60_000, T)
        await a.release()
        await a.release()
        expect((await s.acquire('k', 2, 60_000, T)).ok).toBe(true)
        expect((await s.acquire('k', 2, 60_000, T)).ok).toBe(false)
      })

      it('a refused lease releases and renews nothing', async () => {
        const a = await s.acquire('k', 1, 60_000, T)
        const refused = await s.acquire('k', 1, 60_000, T)
        expect(refused.ok).toBe(false)
        await refused.release()
        expect(await refused.renew(T + 1)).toBe(false)
        expect((await s.acquire('k', 1, 60_000, T)).ok).toBe(false)
        expect(await a.renew(T + 1)).toBe(true)
      })

      it('an unreleased slot expires after its TTL (a crashed replica gives its slots back)', async () => {
        await s.acquire('k', 1, 1000, T)
        expect((await s.acquire('k', 1, 1000, T + 999)).ok).toBe(false)
        expect((await s.acquire('k', 1, 1000, T + 1000)).ok).toBe(true)
      })

      it('renew keeps a long stream\'s slot; a slot that already expired cannot be renewed', async () => {
        const a = await s.acquire('k', 1, 1000, T)
        expect(await a.renew(T + 900)).toBe(true)
        expect((await s.acquire('k', 1, 1000, T + 1500)).ok).toBe(false)
        expect(await a.renew(T + 3000)).toBe(false)
        expect((await s.acquire('k', 1, 1000, T + 3000)).ok).toBe(true)
      })

      it('N parallel acquires with limit 5 grant exactly 5', async () => {
        const r = await Promise.all(Array.from({ length: N }, async () => await s.acquire('streams:alice', 5, 60_000, T)))
        expect(r.filter((l) => l.ok)).toHaveLength(5)
      })

      itShared('slots are shared between instances', async () => {
        const b = await open()
        await s.acquire('k', 1, 60_000, T)
        expect((await b.acquire('k', 1, 60_000, T)).ok).toBe(false)
      })
    })

    describe('revoke / isRevoked (token ids)', () => {
      it('a revoked id is revoked until untilMs, then forgotten', async () => {
        expect(await s.isRevoked('jti-1', T)).toBe(false)
        await s.revoke('jti-1', T + 1000, T)
        expect(await s.isRevoked('jti-1', T)).toBe(true)
        expect(await s.isRevoked('jti-1', T + 999)).toBe(true)
        expect(await s.isRevoked('jti-1', T + 1000)).toBe(false)
        expect(await s.isRevoked('jti-2', T)).toBe(false)
      })

      it('the later until wins', async () => {
        await s.revoke('jti-1', T + 5000, T)
        await s.revoke('jti-1', T + 1000, T)
        expect(await s.isRevoked('jti-1', T + 4000)).toBe(true)
      })

      itShared('a revocation by one instance is seen by another on its next check', async () => {
        const b = await open()
        await s.revoke('jti-x', T + 60_000, T)
        expect(await b.isRevoked('jti-x', T + 1)).toBe(true)
      })
    })

    describe('add (running totals)', () => {
      it('adds amounts to a total until it expires, then starts again from the amount; 0 reads', async () => {
        expect(await s.add('q', 0, T + 1000, T)).toBe(0)
        expect(await s.add('q', 7, T + 1000, T)).toBe(7)
        expect(await s.add('q', 4, T + 1000, T + 999)).toBe(11)
        expect(await s.add('q', 0, T + 1000, T + 999)).toBe(11)
        expect(await s.add('q', 5, T + 2000, T + 1000)).toBe(5)
        expect(await s.add('other', 0, T + 1000, T)).toBe(0)
      })

      it('N parallel additions all count', async () => {
        await Promise.all(Array.from({ length: N }, () => s.add('p', 3, T + 60_000, T)))
        expect(await s.add('p', 0, T + 60_000, T)).toBe(3 * N)
      })

      it('totals beyond 2^31 stay exact', async () => {
        await s.add('big', 2 ** 31, T + 1000, T)
        expect(await s.add('big', 2 ** 31, T + 1000, T)).toBe(2 ** 32)
      })

      itShared('an addition by one instance is seen by another at once', async () => {
        const b = await open()
        await s.add('shared', 9, T + 60_000, T)
        expect(await b.add('shared', 1, T + 60_000, T + 1)).toBe(10)
      })

      it('sweep drops expired totals only', async () => {
        await s.add('t-old', 5, T + 10, T)
        await s.add('t-live', 5, T + 10_000, T)
        await s.sweep(T + 100)
        expect(await s.add('t-live', 0, T + 10_000, T + 100)).toBe(5)
        expect(await s.add('t-old', 0, T + 10_000, T + 100)).toBe(0)
      })
    })

    describe('prefixes and housekeeping', () => {
      it('instances with different prefixes never see each other\'s keys', async () => {
        const other = await open(`${prefix}other:`)
        await s.revoke('jti', T + 1000, T)
        await s.acquire('k', 1, 1000, T)
        await s.hit('h', 1000, T)
        expect(await other.isRevoked('jti', T)).toBe(false)
        expect((await other.acquire('k', 1, 1000, T)).ok).toBe(true)
        expect((await other.hit('h', 1000, T)).count).toBe(1)
      })

      it('sweep drops only what has expired', async () => {
        await s.revoke('old', T + 10, T)
        await s.revoke('live', T + 10_000, T)
        await s.hit('h-old', 10, T)
        await s.hit('h-live', 10_000, T)
        await s.acquire('k-old', 1, 10, T)
        await s.acquire('k-live', 1, 10_000, T)
        await s.sweep(T + 100)
        expect(await s.isRevoked('live', T + 100)).toBe(true)
        expect(await s.isRevoked('old', T + 100)).toBe(false)
        expect(await s.hit('h-live', 10_000, T + 100)).toEqual({ count: 2, resetAt: T + 10_000 })
        expect(await s.hit('h-old', 10_000, T + 100)).toEqual({ count: 1, resetAt: T + 10_100 })
        expect((await s.acquire('k-live', 1, 10_000, T + 100)).ok).toBe(false)
        expect((await s.acquire('k-old', 1, 10_000, T + 100)).ok).toBe(true)
      })
    })
  })
}
