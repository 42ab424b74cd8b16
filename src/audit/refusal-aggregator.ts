// Refusals of unauthenticated clients, counted instead of written one by one: a flood of requests
// with a bogus key must not turn into a flood of audit lines that fills the disk. The first refusal
// of a kind (same source ip, action, reason, method, path and status) is written at once and opens a
// window; identical ones inside the window are only counted, and when it ends (or at shutdown) one
// event stands for all of them with `gatehouse.repeat_count` and `event.start`/`event.end`. Counts
// are exact: the events of one kind, each counting 1 or its repeat_count, add up to the refusals
// made. Only refusals for want of credentials are counted (token-rejected, login and MFA failures
// that name no user, access-denied with 401 or 429, and probes of unrouted paths, 404 or 405, which
// are one kind per source whatever the path: the counted event names the last path probed), and
// requests shed while the gateway is overloaded (503, reason overloaded: refused before any
// credential was read, and written one by one they would add to the load that shed them; one kind
// per source whatever the method and path, the counted event naming the last); events
// that name a user, other refusals and every success are written as they come.
import type { Clock } from '../clock.js'
import type { AuditInput } from './types.js'

export interface RefusalAggregatorOptions {
  /** writes one event; returns its seq */
  emit: (input: AuditInput) => number
  clock: Clock
  windowMs: number
  /** open windows kept at most; the oldest is written early beyond this */
  maxKeys?: number
}

export interface RefusalAggregator {
  /** writes `input`, or counts it into the open window of identical refusals; the seq written, or 0 when counted */
  submit: (input: AuditInput) => number
  /** writes the count of every window that has ended */
  sweep: () => void
  /** writes every open window's count now and stops the timer (shutdown) */
  close: () => void
}

const UNAUTHENTICATED_REFUSALS = new Set<AuditInput['action']>(['token-rejected', 'access-denied', 'login', 'mfa-verify'])
/** access-denied without a user: no credential (401), throttled (429), or a path that is not routed (404, 405) */
const COUNTED_STATUSES = new Set([401, 404, 405, 429])

/** a request shed by load shedding (ops/load-shedding.ts) */
const isShed = (e: AuditInput): boolean => e.request?.status === 503 && e.request.reason === 'overloaded'

interface Window { end: number, count: number, first: number, last: number, input: AuditInput }

/** The identity of a refusal, or null when it is not one that may be counted. */
function kindOf (e: AuditInput): string | null {
  if (e.outcome !== 'failure' || e.userName !== undefined || !UNAUTHENTICATED_REFUSALS.has(e.action) || e.repeat !== undefined) return null
  // a shed request is one kind per source whatever its method and path (each new model or blob name
  // would otherwise be a new kind, written at once, and load shedding's events would add to the load)
  if (isShed(e)) return JSON.stringify([e.sourceIp ?? null, e.action, 'overloaded', '(shed)', 503])
  const r = e.request
  if (e.action === 'access-denied' && !COUNTED_STATUSES.has(r?.status ?? 0)) return null
  // a probe of unrouted paths changes the path at every request: one kind per source and status
  const path = r?.status === 404 || r?.status === 405 ? '(unrouted)' : r?.path ?? null
  return JSON.stringify([e.sourceIp ?? null, e.action, r?.reason ?? e.reason ?? null, r?.method ?? null, path, r?.status ?? null])
}

export function createRefusalAggregator (o: RefusalAggregatorOptions): RefusalAggregator {
  const maxKeys = o.maxKeys ?? 10_000
  const windows = new Map<string, Window>()
  let closed = false

  const write = (key: string, w: Window) => {
    windows.delete(key)
    if (w.count > 0) o.emit({ ...w.input, repeat: { count: w.count, start: w.first, end: w.last } })
  }

  function sweep (): void {
    const now = o.clock.now()
    for (const [k, w] of windows) if (now >= w.end) write(k, w)
  }

  const timer = setInterval(sweep, Math.min(o.windowMs, 1000))
  timer.unref()

  return {
    submit (input) {
      const key = closed ? null : kindOf(input)
      if (key === null) return o.emit(input)
      const now = o.clock.now()
      const open = windows.get(key)
      if (open !== undefined && now < open.end) {
        if (open.count === 0) open.first = now
        open.count++
        open.last = now
        open.input = input
        return 0
      }
      if (open !== undefined) write(key, open)
      const seq = o.emit(input)
      windows.set(key, { end: now + o.windowMs, count: 0, first: now, last: now, input })
      if (windows.size > maxKeys) {
        const [oldest, w] = windows.entries().next().value as [string, Window]
        write(oldest, w)
      }
      return seq
    },
    sweep,
    close () {
      if (closed) return
      closed = true
      clearInterval(timer)
      for (const [k, w] of windows) write(k, w)
    }
  }
}
