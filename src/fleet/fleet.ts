// The fleet of Ollama hosts at run time: one upstream pool per host, the background discovery of
// each host's models, health probes that eject and readmit hosts, and leases that hand a request
// the host it should go to (waiting for a slot when every host that has its model is full).
// Selection and health arithmetic are pure (select.ts, host-state.ts); this file does the I/O.
import { every, type Clock, type Timer } from '../clock.js'
import { createUpstream, type Upstream } from '../proxy/upstream.js'
import {
  canonicalSet, hasFreeSlot, isEjected, newHostState, readmit, recordFailure, recordSuccess, type HealthSettings, type HostState
} from './host-state.js'
import { probeHost, readHostModels } from './discovery.js'
import { rotatingTieBreaker, selectAnyHost, selectHost } from './select.js'
import { createSlotWaiters } from './slot-waiters.js'

export interface FleetHostConfig { name: string, url: string, maxConcurrent?: number | null }

export interface FleetSettings {
  hosts: FleetHostConfig[]
  connectTimeoutMs: number
  headersTimeoutMs: number
  idleTimeoutMs: number
  discoveryIntervalMs: number
  healthIntervalMs: number
  failuresToEject: number
  cooldownMs: number
  queueTimeoutMs: number
  /** how long one discovery read or probe may take */
  probeTimeoutMs?: number
}

/** A request's claim on one slot of one host; released exactly once when the request ends. */
export interface Lease {
  host: HostState
  upstream: Upstream
  /** `failure` counts towards ejection; `success` ends the host's failure run */
  release: (outcome: 'success' | 'failure' | 'neutral', reason?: string) => void
}

export type Acquired =
  | { kind: 'lease', lease: Lease }
  | { kind: 'absent' }
  | { kind: 'busy', retryAfterSeconds: number }
  | { kind: 'aborted' }

export interface FleetEvents {
  /** a host was taken out (failures) or brought back (probe) */
  hostHealth?: (host: HostState, healthy: boolean) => void
}

export interface Fleet {
  readonly hosts: readonly HostState[]
  upstreamOf: (name: string) => Upstream | undefined
  /** the host for a request naming (canonical) `model`, leaving out hosts in `exclude` */
  acquire: (model: string, signal?: AbortSignal, exclude?: ReadonlySet<string>) => Promise<Acquired>
  /**
   * A lease on the host named `name` whatever its models and health (a one-host fleet, a request
   * aimed at that host): waits for a slot like acquire. `absent` when no host has that name.
   */
  acquireOn: (name: string, signal?: AbortSignal) => Promise<Acquired>
  /** any healthy host, for requests that name no model */
  anyHost: () => { host: HostState, upstream: Upstream } | null
  /** re-reads every host's models now (also what the background loop runs) */
  discover: () => Promise<void>
  /** re-reads one host at once (it answered 404 for a model it listed) */
  rediscover: (name: string) => Promise<void>
  /** probes every host once: ejected hosts past their cooldown come back when they answer */
  probe: () => Promise<void>
  /** starts the background discovery and health loops */
  start: () => void
  close: () => Promise<void>
}

export function createFleet (s: FleetSettings, clock: Clock, events: FleetEvents = {}): Fleet {
  const health: HealthSettings = { failuresToEject: s.failuresToEject, cooldownMs: s.cooldownMs }
  const probeTimeoutMs = s.probeTimeoutMs ?? Math.min(5_000, s.connectTimeoutMs + 2_000)
  const hosts = s.hosts.map((h) => newHostState(h.name, h.url, h.maxConcurrent ?? null))
  const upstreams = new Map<string, Upstream>(s.hosts.map((h) => [h.name, createUpstream({
    url: h.url, connectTimeoutMs: s.connectTimeoutMs, headersTimeoutMs: s.headersTimeoutMs, idleTimeoutMs: s.idleTimeoutMs
  })]))
  const ties = rotatingTieBreaker()
  const waiters = createSlotWaiters()
  const timers: Timer[] = []

  const upstreamOf = (name: string): Upstream => {
    const u = upstreams.get(name)
    if (u === undefined) throw new Error(`no upstream named ${name}`)
    return u
  }

  const fail = (h: HostState, reason: string): void => {
    if (recordFailure(h, clock.now(), reason, health)) events.hostHealth?.(h, false)
  }

  const lease = (h: HostState): Lease => {
    h.inFlight++
    let released = false
    return {
      host: h,
      upstream: upstreamOf(h.name),
      release (outcome, reason) {
        if (released) return
        released = true
        h.inFlight--
        if (outcome === 'success') recordSuccess(h, clock.now())
        else if (outcome === 'failure') fail(h, reason ?? 'request failed')
        waiters.slotFreed(h.name)
      }
    }
  }

  async function readHost (h: HostState): Promise<void> {
    try {
      const found = await readHostModels(upstreamOf(h.name), probeTimeoutMs)
      h.models = canonicalSet(found.models)
      h.loaded = canonicalSet(found.loaded)
      recordSuccess(h, clock.now())
    } catch (err) {
      fail(h, `discovery: ${(err as Error).message}`)
    }
  }

  async function probeOne (h: HostState): Promise<void> {
    const wasOut = isEjected(h, clock.now())
    const cooledDown = h.ejectedUntil !== 0 && !wasOut
    try {
      await probeHost(upstreamOf(h.name), probeTimeoutMs)
      if (cooledDown) {
        readmit(h, clock.now())
        await readHost(h)
        events.hostHealth?.(h, true)
      } else if (!wasOut) {
        recordSuccess(h, clock.now())
      }
    } catch (err) {
      if (!wasOut) fail(h, `probe: ${(err as Error).message}`)
    }
  }

  return {
    hosts,
    upstreamOf: (name) => upstreams.get(name),
    async acquire (model, signal, exclude) {
      const deadline = clock.now() + s.queueTimeoutMs
      const aborted = (): boolean => signal?.aborted === true
      for (;;) {
        if (aborted()) return { kind: 'aborted' }
        const choice = selectHost(hosts, model, clock.now(), ties, exclude)
        if (choice.kind === 'host') return { kind: 'lease', lease: lease(choice.host) }
        if (choice.kind === 'absent') return { kind: 'absent' }
        const names = new Set(choice.candidates.map((h) => h.name))
        const woken = await waiters.wait((name) => names.has(name), deadline - clock.now(), signal)
        if (!woken) {
          return aborted()
            ? { kind: 'aborted' }
            : { kind: 'busy', retryAfterSeconds: Math.max(1, Math.ceil(s.queueTimeoutMs / 1000)) }
        }
      }
    },
    async acquireOn (name, signal) {
      const h = hosts.find((x) => x.name === name)
      if (h === undefined) return { kind: 'absent' }
      const deadline = clock.now() + s.queueTimeoutMs
      const aborted = (): boolean => signal?.aborted === true
      for (;;) {
        if (aborted()) return { kind: 'aborted' }
        if (hasFreeSlot(h)) return { kind: 'lease', lease: lease(h) }
        const woken = await waiters.wait((n) => n === name, deadline - clock.now(), signal)
        if (!woken) {
          return aborted()
            ? { kind: 'aborted' }
            : { kind: 'busy', retryAfterSeconds: Math.max(1, Math.ceil(s.queueTimeoutMs / 1000)) }
        }
      }
    },
    anyHost () {
      const h = selectAnyHost(hosts, clock.now(), ties)
      return h === null ? null : { host: h, upstream: upstreamOf(h.name) }
    },
    discover: async () => { await Promise.all(hosts.filter((h) => !isEjected(h, clock.now())).map(readHost)) },
    async rediscover (name) {
      const h = hosts.find((x) => x.name === name)
      if (h !== undefined) await readHost(h)
    },
    probe: async () => { await Promise.all(hosts.map(probeOne)) },
    start () {
      // on the injected clock's timers, so a test moves time instead of waiting for a probe
      timers.push(every(clock, s.discoveryIntervalMs, () => { void this.discover() }))
      timers.push(every(clock, s.healthIntervalMs, () => { void this.probe() }))
    },
    async close () {
      for (const t of timers) t.cancel()
      await Promise.all([...upstreams.values()].map((u) => u.close()))
    }
  }
}
