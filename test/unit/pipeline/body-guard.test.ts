// The body pace decision: a deadline from the first byte of the body, and a minimum average pace
// after a short grace.
import { describe, expect, it } from 'vitest'
import { PACE_GRACE_MS, bodyVerdict } from '../../../src/pipeline/body-guard.js'

const limits = { bodyBytes: 1 << 20, bodyTimeoutMs: 30_000, bodyMinBytesPerSecond: 1024, sourceBodyBytes: 1 << 26 }

describe('bodyVerdict', () => {
  it('a body is cut at the deadline however fast it came', () => {
    expect(bodyVerdict(limits, 0, 29_999, 10 << 20)).toBe('ok')
    expect(bodyVerdict(limits, 0, 30_000, 10 << 20)).toBe('timeout')
  })
  it('the pace applies only after the grace', () => {
    expect(bodyVerdict(limits, 0, PACE_GRACE_MS, 0)).toBe('ok')
    expect(bodyVerdict(limits, 0, PACE_GRACE_MS + 1000, 1023)).toBe('too-slow')
    expect(bodyVerdict(limits, 0, PACE_GRACE_MS + 1000, 1024)).toBe('ok')
  })
  it('a pace of 0 turns the pace check off', () => {
    expect(bodyVerdict({ ...limits, bodyMinBytesPerSecond: 0 }, 0, 20_000, 0)).toBe('ok')
  })
})
