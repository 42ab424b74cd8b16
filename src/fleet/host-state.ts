// What the gateway knows about one Ollama host of the fleet: the models it has (its last /api/tags),
// the ones it has loaded (its last /api/ps), the requests in flight, and its health. Pure state and
// arithmetic with the time passed in; the discovery loop and the forwarder are what change it.
import { parseModelName } from '../ollama/model-name.js'

export interface HealthSettings {
  /** consecutive failures (connection errors, 5xx, failed probes) that take a host out */
  failuresToEject: number
  /** how long an ejected host stays out before a probe may bring it back */
  cooldownMs: number
}

export interface HostState {
  readonly name: string
  readonly url: string
  /** null: no limit of its own */
  readonly maxConcurrent: number | null
  /** canonical model names from the host's last /api/tags; null until the first read succeeds */
  models: ReadonlySet<string> | null
  /** canonical model names from the host's last /api/ps */
  loaded: ReadonlySet<string>
  inFlight: number
  consecutiveFailures: number
  /** while now < ejectedUntil the host takes no requests */
  ejectedUntil: number
  lastError: string | null
  /** when the host last answered anything (ms since the epoch), 0 when never */
  lastSeen: number
}

export function newHostState (name: string, url: string, maxConcurrent: number | null = null): HostState {
  return {
    name, url, maxConcurrent,
    models: null,
    loaded: new Set(),
    inFlight: 0,
    consecutiveFailures: 0,
    ejectedUntil: 0,
    lastError: null,
    lastSeen: 0
  }
}

/** Canonical names of a model list; names Gatehouse would refuse are left out (nothing can ask for them). */
export function canonicalSet (names: Iterable<string>): Set<string> {
  const out = new Set<string>()
  for (const n of names) {
    const canonical = parseModelName(n)
    if (canonical !== null) out.add(canonical)
  }
  return out
}

export const isEjected = (h: HostState, now: number): boolean => now < h.ejectedUntil

/** Takes requests: not ejected, and its model list has been read at least once. */
export const isHealthy = (h: HostState, now: number): boolean => !isEjected(h, now) && h.models !== null

export const hasFreeSlot = (h: HostState): boolean => h.maxConcurrent === null || h.inFlight < h.maxConcurrent

/** The host answered (a request, a probe or a discovery read): its failure run ends. */
export function recordSuccess (h: HostState, now: number): void {
  h.consecutiveFailures = 0
  h.lastError = null
  h.lastSeen = now
}

/**
 * The host failed (refused, reset, timed out, answered 5xx, or a probe failed). Returns true when
 * this failure ejected it: `failuresToEject` in a row take it out for the cooldown.
 */
export function recordFailure (h: HostState, now: number, reason: string, s: HealthSettings): boolean {
  h.lastError = reason
  h.consecutiveFailures += 1
  if (h.consecutiveFailures < s.failuresToEject || isEjected(h, now)) return false
  h.ejectedUntil = now + s.cooldownMs
  return true
}

/** A successful probe after the cooldown brings the host back with a clean record. */
export function readmit (h: HostState, now: number): void {
  h.ejectedUntil = 0
  recordSuccess(h, now)
}
