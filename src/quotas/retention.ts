// Usage records older than `usage.retentionDays` are deleted once a day (and once at start).
import { every, type Clock, type Timer } from '../clock.js'
import type { Store } from '../store/types.js'

const DAY_MS = 86_400_000

export interface UsageRetentionOptions {
  store: Pick<Store, 'deleteUsageBefore'>
  retentionDays: number
  clock: Clock
  onError?: (err: unknown) => void
  onSwept?: (deleted: number) => void
}

export interface UsageRetention {
  /** deletes what is older than the retention now; returns how many records went */
  sweep: () => Promise<number>
  start: () => void
  stop: () => void
}

export function createUsageRetention (opts: UsageRetentionOptions): UsageRetention {
  let timer: Timer | null = null
  const sweep = async (): Promise<number> => {
    const n = await opts.store.deleteUsageBefore(opts.clock.now() - opts.retentionDays * DAY_MS)
    opts.onSwept?.(n)
    return n
  }
  const run = (): void => { sweep().catch((err: unknown) => opts.onError?.(err)) }
  return {
    sweep,
    start () {
      if (timer !== null) return
      run()
      timer = every(opts.clock, DAY_MS, run)
    },
    stop () { timer?.cancel(); timer = null }
  }
}
