// Which host serves a request for model M: a healthy host that has M, preferring one where M is
// already loaded (loading costs seconds), then the fewest requests in flight relative to its
// maxConcurrent, ties spread in turn. Pure: the hosts' state and the time come in, a choice goes out.
import { hasFreeSlot, isHealthy, type HostState } from './host-state.js'

export type Selection =
  | { kind: 'host', host: HostState }
  /** no healthy host has the model: nothing is contacted */
  | { kind: 'absent' }
  /** hosts have it, but every one is at its maxConcurrent: wait for a slot */
  | { kind: 'busy', candidates: HostState[] }

/** Turns tie-breaking into a rotation, so equal hosts take turns instead of the first always winning. */
export interface TieBreaker { next: (ties: number) => number }

export function rotatingTieBreaker (): TieBreaker {
  let turn = 0
  return { next: (ties) => (turn++ % ties) }
}

/** The healthy hosts that have the (canonical) model, leaving out those already tried. */
function candidatesFor (
  hosts: readonly HostState[], model: string, now: number, exclude: ReadonlySet<string> = new Set()
): HostState[] {
  return hosts.filter((h) => !exclude.has(h.name) && isHealthy(h, now) && h.models?.has(model) === true)
}

/**
 * Load of a host as a fraction of its capacity. A host without maxConcurrent is measured against
 * the largest limit in the fleet (or 1 when none has one), so limited and unlimited hosts compare.
 */
function loadOf (h: HostState, defaultCapacity: number): number {
  return h.inFlight / (h.maxConcurrent ?? defaultCapacity)
}

export function selectHost (
  hosts: readonly HostState[], model: string, now: number, ties: TieBreaker, exclude?: ReadonlySet<string>
): Selection {
  const candidates = candidatesFor(hosts, model, now, exclude)
  if (candidates.length === 0) return { kind: 'absent' }
  const free = candidates.filter(hasFreeSlot)
  if (free.length === 0) return { kind: 'busy', candidates }

  const defaultCapacity = Math.max(1, ...hosts.map((h) => h.maxConcurrent ?? 0))
  const loadedFree = free.filter((h) => h.loaded.has(model))
  const pool = loadedFree.length > 0 ? loadedFree : free
  let least = Infinity
  for (const h of pool) least = Math.min(least, loadOf(h, defaultCapacity))
  const tied = pool.filter((h) => loadOf(h, defaultCapacity) === least)
  return { kind: 'host', host: tied[ties.next(tied.length)] ?? tied[0] as HostState }
}

/** Any healthy host, in turn: for requests that name no model (/api/version, /). */
export function selectAnyHost (hosts: readonly HostState[], now: number, ties: TieBreaker): HostState | null {
  const healthy = hosts.filter((h) => isHealthy(h, now))
  if (healthy.length === 0) return null
  return healthy[ties.next(healthy.length)] ?? null
}
