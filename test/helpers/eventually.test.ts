// The one way tests wait: poll an assertion until it holds, fail with its own error at the deadline.
import { describe, expect, it } from 'vitest'
import { eventually } from './eventually.js'

describe('eventually', () => {
  it('returns the value of the first attempt that passes, without waiting further', async () => {
    let calls = 0
    const started = Date.now()
    const value = await eventually(() => {
      calls++
      expect(calls).toBeGreaterThanOrEqual(3)
      return `ok after ${calls}`
    }, { intervalMs: 1 })
    expect(value).toBe('ok after 3')
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('waits for an async check', async () => {
    let ready = false
    setImmediate(() => { ready = true })
    await eventually(async () => { await Promise.resolve(); expect(ready).toBe(true) })
    expect(ready).toBe(true)
  })

  it('rethrows the last assertion error at the deadline, saying how long it waited', async () => {
    let calls = 0
    const err = await eventually(() => { calls++; expect(calls).toBe(-1) }, { timeoutMs: 50, intervalMs: 5 }).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(new RegExp(`expected ${calls} to be -1 .*\\(still failing after 50 ms\\)`))
    expect(calls).toBeGreaterThan(1)
  })
})
