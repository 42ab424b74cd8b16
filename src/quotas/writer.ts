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

  const flush = async (): Promise<void> => {
    // one write at a time, in order
    writing = writing.then(async () => {
      while (buffer.length > 0) {
        const batch = buffer.slice(0, maxBatch)
        try {
          await opts.store.insertUsage(batch)
        } catch (err) {
          const dropped = Math.max(0, buffer.length - maxBuffered)
          if (dropped > 0) buffer = buffer.slice(dropped)
          opts.onError?.(err, dropped)
          return
        }
        buffer = buffer.slice(batch.length)
      }
    })
    await writing
  }
  const timer = every(opts.clock, opts.flushMs ?? 1000, () => { void flush() })

  return {
    add (record) {
      buffer.push(record)
      if (buffer.length >= maxBatch) void flush()
    },
    flush,
    async close () {
      timer.cancel()
      await flush()
    },
    pending: () => buffer.length
  }
}
