// Timers on the injected clock: the manual clock fires them only when a test moves time, in order.
import { describe, expect, it } from 'vitest'
import { every, systemClock } from '../../src/clock.js'
import { manualClock } from '../helpers/clock.js'
import { eventually } from '../helpers/eventually.js'

describe('manual clock timers', () => {
  it('fire at each multiple of the period that time passes, seeing that moment as now()', () => {
    const clock = manualClock(1000)
    const seen: number[] = []
    clock.every(100, () => seen.push(clock.now()))
    clock.advance(99)
    expect(seen).toEqual([])
    clock.advance(1)
    expect(seen).toEqual([1100])
    clock.advance(350) // one jump past three due times fires all three
    expect(seen).toEqual([1100, 1200, 1300, 1400])
    expect(clock.now()).toBe(1450)
  })

  it('interleave several timers in time order', () => {
    const clock = manualClock(0)
    const seen: string[] = []
    clock.every(30, () => seen.push(`a@${clock.now()}`))
    clock.every(50, () => seen.push(`b@${clock.now()}`))
    clock.advance(100)
    expect(seen).toEqual(['a@30', 'b@50', 'a@60', 'a@90', 'b@100'])
  })

  it('stop when cancelled, also from inside their own callback', () => {
    const clock = manualClock(0)
    let n = 0
    const t = clock.every(10, () => { if (++n === 2) t.cancel() })
    clock.advance(100)
    expect(n).toBe(2)
    expect(clock.pendingTimers()).toBe(0)
  })

  it('set() forward fires what falls due, set() back fires nothing', () => {
    const clock = manualClock(0)
    let n = 0
    clock.every(10, () => { n++ })
    clock.set(25)
    expect(n).toBe(2)
    clock.set(5)
    expect(n).toBe(2)
    expect(clock.now()).toBe(5)
  })
})

describe('every()', () => {
  it('uses the clock\'s own timers when it has them', () => {
    const clock = manualClock(0)
    let n = 0
    const t = every(clock, 10, () => { n++ })
    clock.advance(20)
    expect(n).toBe(2)
    t.cancel()
    expect(clock.pendingTimers()).toBe(0)
  })

  it('falls back to real timers for a clock that only tells time, and the system clock has them', async () => {
    for (const clock of [{ now: () => 0 }, systemClock]) {
      let fired = 0
      const t = every(clock, 1, () => { fired++ })
      await eventually(() => expect(fired).toBeGreaterThan(0))
      t.cancel()
    }
  })
})
