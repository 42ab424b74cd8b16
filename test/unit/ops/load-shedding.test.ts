// How far behind the event loop is, from its heartbeat: a tick not yet come counts while it is
// late (an iteration still running), a tick that came late counts for the hold after it, the
// largest lateness in the hold wins, and an on-time loop is never behind.
import { describe, expect, it } from 'vitest'
import { createLoopLagTracker } from '../../../src/ops/load-shedding.js'

const tracker = () => { const t = createLoopLagTracker({ intervalMs: 10, holdMs: 1000 }); t.tick(0); return t }

describe('loop lag tracker', () => {
  it('starts counting at the first tick: the time before it is start-up', () => {
    const lag = createLoopLagTracker({ intervalMs: 10, holdMs: 1000 })
    expect(lag.behindMs(5000)).toBe(0)
    lag.tick(5000)
    expect(lag.behindMs(5000)).toBe(0)
    expect(lag.behindMs(5100)).toBe(90)
  })

  it('is not behind while the heartbeat comes on time', () => {
    const lag = tracker()
    for (let t = 10; t <= 5000; t += 10) {
      lag.tick(t)
      expect(lag.behindMs(t + 5)).toBe(0)
    }
  })

  it('counts a tick that has not come yet: the iteration still running', () => {
    const lag = tracker()
    lag.tick(10)
    expect(lag.behindMs(20)).toBe(0)
    expect(lag.behindMs(95)).toBe(75)
    expect(lag.behindMs(310)).toBe(290)
  })

  it('holds a late tick\'s lateness for the hold, then lets it go', () => {
    const lag = tracker()
    lag.tick(10)
    lag.tick(220) // 200 ms late
    for (let t = 230; t <= 1220; t += 10) { lag.tick(t); expect(lag.behindMs(t)).toBe(200) }
    lag.tick(1230)
    expect(lag.behindMs(1230)).toBe(0)
  })

  it('keeps a smaller, later lateness for its own hold once the larger one has expired', () => {
    const lag = tracker()
    lag.tick(310) // 300 late
    lag.tick(470) // 150 late, 160 ms later
    for (let t = 480; t <= 1400; t += 10) lag.tick(t)
    expect(lag.behindMs(1300)).toBe(300)
    expect(lag.behindMs(1400)).toBe(150) // the 300 has expired, the 150 has not
    for (let t = 1410; t <= 1480; t += 10) lag.tick(t)
    expect(lag.behindMs(1480)).toBe(0)
  })

  it('keeps the largest lateness in the hold, and a smaller one after the hold', () => {
    const lag = tracker()
    lag.tick(10)
    lag.tick(120) // 100 late
    lag.tick(430) // 300 late: replaces
    lag.tick(490) // 50 late: smaller, the 300 stays
    expect(lag.behindMs(490)).toBe(300)
    lag.tick(1500) // 1,000 after the 300: a new lateness of 1,000 replaces it
    expect(lag.behindMs(1500)).toBe(1000)
    for (let t = 1510; t <= 2500; t += 10) lag.tick(t)
    lag.tick(2600) // 90 late, after the hold of the 1,000
    expect(lag.behindMs(2600)).toBe(90)
  })
})
