import type { ChainPoint } from '../chain.js'
import type { AuditEvent } from '../types.js'

export interface SinkProblem { type: 'file' | 'stdout' | 'syslog', error?: string, dropped?: number }

export interface AuditSink {
  readonly type: 'file' | 'stdout' | 'syslog'
  /** Queues one event; never throws. `line` has no newline. */
  write: (line: string, event: AuditEvent) => void
  /** True when the sink can deliver right now. */
  writable: () => boolean
  /** Resolves true once everything written before the call is persisted (on disk, on the wire). */
  flush: () => Promise<boolean>
  close: () => Promise<void>
  /** the highest seq this sink has let out (written, sent or dropped): such events can no longer change */
  released: () => number
  /** replaces the events still queued with these (the same seqs, re-linked); touches only those */
  rewrite: (events: ReadonlyArray<{ line: string, event: AuditEvent }>) => void
  stats: () => { dropped: number, queueDepth: number, errors: number }
}

export interface FileSinkExtras {
  /** The chain head found in the existing file(s) on open. */
  resumePoint: () => ChainPoint | null
  /**
   * Writes what is queued and fdatasyncs it without blocking the event loop; resolves with the last
   * event then known to be on disk (what a checkpoint may vouch for), null when the sync failed.
   */
  syncedPoint: () => Promise<ChainPoint | null>
  readonly path: string
}

/**
 * Revised events are re-linked lazily (see AuditLog.revise): until then, the lines a sink holds from
 * `staleFrom()` on carry out-of-date links. A sink that holds lines calls `relink()` before it lets
 * any of those out: writes or sends it, or drops it and counts it released (`released()`); then
 * `relink()` rewrites them in every sink. (A line dropped without counting it released needs none.)
 */
export interface StaleLines {
  /** the first seq whose queued line is out of date; Infinity when none is */
  staleFrom: () => number
  relink: () => void
}
