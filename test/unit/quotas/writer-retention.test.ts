import { describe, expect, it } from 'vitest'
import { createUsageRetention, createUsageWriter } from '../../../src/quotas/index.js'
import type { UsageRecord } from '../../../src/store/types.js'
import { manualClock } from '../../helpers/clock.js'
import { eventually } from '../../helpers/eventually.js'

const rec = (at: number): UsageRecord => ({ at, identity: 'a', credential: 'session', role: 'user', model: null, upstream: null,
  inputTokens: 1, outputTokens: 1, durationMs: 1, status: 200, incomplete: false })
const DAY = 86_400_000

describe('the usage writer', () => {
  it('writes in batches on its timer and when a batch is full, and everything on close', async () => {
    const clock = manualClock()
    const batches: number[] = []
    const w = createUsageWriter({ store: { insertUsage: async (r) => { batches.push(r.length) } }, clock, flushMs: 100, maxBatch: 3 })
    w.add(rec(1)); w.add(rec(2))
    expect(batches).toEqual([])
    clock.advance(100)
    await eventually(() => { expect(batches).toEqual([2]) })
    // a full batch starts a write of everything waiting, in batches of at most maxBatch
    for (let i = 0; i < 4; i++) w.add(rec(i))
    await eventually(() => { expect(batches).toEqual([2, 3, 1]) })
    w.add(rec(9))
    await w.close()
    expect(batches).toEqual([2, 3, 1, 1])
    expect(w.pending()).toBe(0)
    expect(clock.pendingTimers()).toBe(0)
  })

  it('a slow or failing store gets one write run at a time and one waiting, not one per record added', async () => {
    // every record past a full batch asks for a flush: while the store is slow, those must join the
    // run already waiting instead of each queuing its own (a chain that grew without bound under load)
    let release: () => void = () => {}
    let attempts = 0
    const w = createUsageWriter({
      store: {
        insertUsage: async () => {
          // the first write hangs until released, every one fails: the store is slow, then down
          if (++attempts === 1) await new Promise<void>((resolve) => { release = resolve })
          throw new Error('down')
        }
      },
      clock: manualClock(),
      maxBatch: 10
    })
    for (let i = 0; i < 1000; i++) w.add(rec(i))
    await eventually(() => { expect(attempts).toBe(1) })
    release()
    await w.flush()
    // the run in flight, the one that waited, and this flush's own: not one per record
    expect(attempts).toBeLessThanOrEqual(3)
    expect(w.pending()).toBe(1000)
    // while it fails, more full batches wait for the timer: no attempt per batch
    const before = attempts
    for (let i = 0; i < 100; i++) w.add(rec(i))
    await Promise.resolve()
    expect(attempts).toBe(before)
  })

  it('a batch the store refuses is kept for the next flush, not lost', async () => {
    let fail = true
    const stored: UsageRecord[] = []
    const errors: unknown[] = []
    const w = createUsageWriter({
      store: { insertUsage: async (r) => { if (fail) throw new Error('down'); stored.push(...r) } },
      clock: manualClock(),
      onError: (e) => errors.push(e)
    })
    w.add(rec(1))
    await w.flush()
    expect(errors).toHaveLength(1)
    expect(w.pending()).toBe(1)
    fail = false
    await w.close()
    expect(stored.map((r) => r.at)).toEqual([1])
  })
})

describe('the retention sweep', () => {
  it('runs at start and then once a day, deleting what is older than retentionDays', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7))
    const cutoffs: number[] = []
    const r = createUsageRetention({ store: { deleteUsageBefore: async (t) => { cutoffs.push(t); return 0 } }, clock, retentionDays: 400 })
    r.start()
    expect(cutoffs).toEqual([Date.UTC(2026, 11, 7) - 400 * DAY])
    clock.advance(DAY - 1)
    expect(cutoffs).toHaveLength(1)
    clock.advance(1)
    expect(cutoffs).toEqual([Date.UTC(2026, 11, 7) - 400 * DAY, Date.UTC(2026, 11, 8) - 400 * DAY])
    r.stop()
    expect(clock.pendingTimers()).toBe(0)
  })
})
