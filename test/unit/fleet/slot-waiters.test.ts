import { describe, expect, it } from 'vitest'
import { createSlotWaiters } from '../../../src/fleet/slot-waiters.js'

describe('waiting for a free slot', () => {
  it('wakes the oldest waiter that the freed host can serve', async () => {
    const waiters = createSlotWaiters()
    const order: string[] = []
    const onlyB = waiters.wait((h) => h === 'b', 10_000).then((ok) => { order.push(`onlyB:${ok}`) })
    const first = waiters.wait(() => true, 10_000).then((ok) => { order.push(`first:${ok}`) })
    const second = waiters.wait(() => true, 10_000).then((ok) => { order.push(`second:${ok}`) })
    expect(waiters.size).toBe(3)
    waiters.slotFreed('a') // onlyB cannot use a: the next in line can
    await first
    expect(order).toEqual(['first:true'])
    waiters.slotFreed('b')
    await onlyB
    waiters.slotFreed('a')
    await second
    expect(order).toEqual(['first:true', 'onlyB:true', 'second:true'])
    expect(waiters.size).toBe(0)
  })

  it('gives up when the time runs out, and leaves the queue', async () => {
    const waiters = createSlotWaiters()
    expect(await waiters.wait(() => true, 20)).toBe(false)
    expect(waiters.size).toBe(0)
  })

  it('gives up at once for a request with no time left or an aborted client', async () => {
    const waiters = createSlotWaiters()
    expect(await waiters.wait(() => true, 0)).toBe(false)
    expect(await waiters.wait(() => true, 1000, AbortSignal.abort())).toBe(false)
    expect(waiters.size).toBe(0)
  })

  it('a client that hangs up while waiting leaves the queue and is not woken later', async () => {
    const waiters = createSlotWaiters()
    const abort = new AbortController()
    const gone = waiters.wait(() => true, 10_000, abort.signal)
    const next = waiters.wait(() => true, 10_000)
    abort.abort()
    expect(await gone).toBe(false)
    waiters.slotFreed('a')
    expect(await next).toBe(true)
  })
})
