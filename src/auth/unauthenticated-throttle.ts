// Requests without valid credentials (none, or refused), counted per source in one-minute windows
// that every replica shares (src/cluster-state). Beyond the limit they get 429 with Retry-After, so a
// client cannot make the gateway check bogus keys and write refusals without end. Valid credentials
// are never counted or throttled: a user behind the same address as an attacker still gets in.
import { throttleSubject } from '../config/cidr.js'
import type { Clock } from '../clock.js'
import type { AuthSharedState } from './deps.js'
import { retryAfterSeconds } from '../clock.js'

const WINDOW_MS = 60_000

export type UnauthenticatedThrottle = (sourceIp: string) => Promise<number | null>

/** Counts one refused request from `sourceIp`; resolves with Retry-After seconds once it is over the limit, else null. */
export function createUnauthenticatedThrottle (
  o: { sharedState: AuthSharedState, clock: Clock, perIpMaxPerMinute: number }
): UnauthenticatedThrottle {
  return async (sourceIp) => {
    const now = o.clock.now()
    const { count, resetAt } = await o.sharedState.hit(`auth:unauthenticated:${throttleSubject(sourceIp)}`, WINDOW_MS, now)
    return count > o.perIpMaxPerMinute ? retryAfterSeconds(resetAt, now) : null
  }
}
