// Usage records leave the request's path: they are buffered and written in batches, every
// `flushMs` or once `maxBatch` are waiting, and whatever is left is written on close. A batch
// the store refuses is kept for the next flush (up to `maxBuffered`, oldest dropped beyond).
import { every, type Clock } from '../clock.js'
import type { Store, UsageRecord } from '../store/types.js'

export interface UsageWriterOptions {
  store: Pick<Store, 'insertUsage'>
  clock: Clock
  flushMs?: number
  maxBatch?: number
  maxBuffered?: number
  onError?: (err: unknown, dropped: number) => void
}

export interface UsageWriter {
  add: (record: UsageRecord) => void
  /** writes what is buffered now; resolves once it is stored (or kept after a failure) */
  flush: () => Promise<void>
  /** stops the timer and writes the rest */
  close: () => Promise<void>
  pending: () => number
}

export function createUsageWriter (opts: UsageWriterOptions): UsageWriter {
  const maxBatch = opts.maxBatch ?? 200
  const maxBuffered = opts.maxBuffered ?? 100_000
  let buffer: UsageRecord[] = []
  let writing: Promise<void> = Promise.resolve()
  // the run queued behind the one in flight, not started yet: every flush asked for meanwhile joins
  // it (it writes everything buffered when it starts), so a slow or failing store never faces more
  // than one run waiting, however many records arrive
  let waiting: Promise<void> | null = null
  // after a failed write the next one waits for the timer, not for the next full batch: a store
  // that is down is tried once per flushMs, not back to back
  let failing = false

  const flush = (): Promise<void> => {
    if (waiting !== null) return waiting
    // one write at a time, in order
    const run = writing.then(async () => {
      waiting = null
      while (buffer.length > 0) {
        const batch = buffer.slice(0, maxBatch)
        try {
          await opts.store.insertUsage(batch)
        } catch (err) {
          failing = true
          const dropped = Math.max(0, buffer.length - maxBuffered)
          if (dropped > 0) buffer = buffer.slice(dropped)
          opts.onError?.(err, dropped)
          return
        }
        failing = false
        buffer = buffer.slice(batch.length)
      }
    })
    waiting = run
    writing = run
    return run
  }
  const timer = every(opts.clock, opts.flushMs ?? 1000, () => { void flush() })

  return {
    add (record) {
      buffer.push(record)
      if (buffer.length >= maxBatch && !failing) void flush()
    },
    flush,
    async close () {
      timer.cancel()
      await flush()
    },
    pending: () => buffer.length
  }
}
