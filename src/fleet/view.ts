// What an operator sees of each host (GET /admin/upstreams): its state at this moment, times as
// ISO strings. Pure: the hosts and the time come in.
import { isEjected, isHealthy, type HostState } from './host-state.js'

export interface UpstreamView {
  name: string
  url: string
  healthy: boolean
  inFlight: number
  maxConcurrent: number | null
  models: string[]
  loaded: string[]
  lastError: string | null
  /** when an ejected host may come back; null while it is in */
  cooldownUntil: string | null
  /** when the host last answered; null when it never has */
  lastSeen: string | null
}

export function upstreamViews (hosts: readonly HostState[], now: number): UpstreamView[] {
  return hosts.map((h) => ({
    name: h.name,
    url: h.url,
    healthy: isHealthy(h, now),
    inFlight: h.inFlight,
    maxConcurrent: h.maxConcurrent,
    models: [...h.models ?? []].sort(),
    loaded: [...h.loaded].sort(),
    lastError: h.lastError,
    cooldownUntil: isEjected(h, now) ? new Date(h.ejectedUntil).toISOString() : null,
    lastSeen: h.lastSeen === 0 ? null : new Date(h.lastSeen).toISOString()
  }))
}
