// The per-source throttle of requests without valid credentials: exact limit, Retry-After until the
// window ends, a fresh window afterwards, one counter per IPv4 address and per IPv6 /64, and one
// counter for every replica that shares the state.
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../helpers/clock.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { createUnauthenticatedThrottle } from '../../../src/auth/unauthenticated-throttle.js'

function setup (limit = 3) {
  const clock = manualClock(Date.UTC(2026, 11, 7, 4, 0, 0))
  const sharedState = createSharedState({ backend: 'memory', clock })
  return { clock, sharedState, throttle: createUnauthenticatedThrottle({ sharedState, clock, perIpMaxPerMinute: limit }) }
}

describe('unauthenticated throttle', () => {
  it('lets the limit through, then answers with the seconds left in the window, then starts afresh', async () => {
    const { clock, throttle } = setup(3)
    for (let i = 0; i < 3; i++) expect(await throttle('203.0.113.9')).toBeNull()
    clock.advance(15_000)
    expect(await throttle('203.0.113.9')).toBe(45)
    clock.advance(44_500)
    expect(await throttle('203.0.113.9')).toBe(1)
    clock.advance(500)
    expect(await throttle('203.0.113.9')).toBeNull()
  })

  it('counts each IPv4 address on its own and an IPv6 /64 as one source', async () => {
    const { throttle } = setup(1)
    expect(await throttle('203.0.113.9')).toBeNull()
    expect(await throttle('203.0.113.10')).toBeNull()
    expect(await throttle('2001:db8:1:2::1')).toBeNull()
    expect(await throttle('2001:db8:1:2:ffff::9')).not.toBeNull()
    expect(await throttle('2001:db8:1:3::1')).toBeNull()
  })

  it('replicas sharing the state share the count', async () => {
    const { clock, sharedState } = setup()
    const a = createUnauthenticatedThrottle({ sharedState, clock, perIpMaxPerMinute: 2 })
    const b = createUnauthenticatedThrottle({ sharedState, clock, perIpMaxPerMinute: 2 })
    expect(await a('203.0.113.9')).toBeNull()
    expect(await b('203.0.113.9')).toBeNull()
    expect(await a('203.0.113.9')).not.toBeNull()
    expect(await b('203.0.113.9')).not.toBeNull()
  })
})
