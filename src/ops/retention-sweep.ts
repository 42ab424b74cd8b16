// The daily disposal sweep: rotated audit files past audit.retentionDays (only when the rest still
// verifies from a signed rotation checkpoint and, for the other chains in the deleted files, the
// signed retention checkpoints it writes right before deleting; recorded as an `audit-retention` event), and ended
// sessions and retired API keys past store.purgeAfterDays. Runs on the injected clock's timer.
import type { KeyObject } from 'node:crypto'
import { every, type Clock, type Timer } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import { applyAuditRetention, type AuditInput } from '../audit/index.js'
import type { Store } from '../store/types.js'

const DAY_MS = 86_400_000

export interface SweepReport {
  audit: Array<{ path: string, removed: string[], kept?: string }>
  purged: { sessions: number, apiKeys: number }
}

export interface RetentionSweep {
  /** one sweep now (the timer runs one a day); sweeps never overlap */
  run: () => Promise<SweepReport>
  /** stops the timer and waits for a sweep in progress */
  close: () => Promise<void>
}

export interface RetentionSweepDeps {
  config: Pick<GatehouseConfig, 'audit' | 'store'>
  store: Pick<Store, 'purgeEnded'>
  emit: (e: AuditInput) => void
  clock: Clock
  /** `checkpointKey` (private) signs retention checkpoints */
  keys: { chainKey: Buffer, checkpointPublicKey: KeyObject, checkpointKey: KeyObject }
  onError?: (err: unknown) => void
  /** how often it runs (default a day) */
  intervalMs?: number
}

export function createRetentionSweep (deps: RetentionSweepDeps): RetentionSweep {
  const { config, clock } = deps
  let running: Promise<SweepReport> | null = null
  let timer: Timer | null = null

  async function sweep (): Promise<SweepReport> {
    const now = clock.now()
    const report: SweepReport = { audit: [], purged: { sessions: 0, apiKeys: 0 } }
    const days = config.audit.retentionDays
    if (days !== null) {
      for (const sink of config.audit.sinks) {
        if (sink.type !== 'file') continue
        const r = await applyAuditRetention({ path: sink.path, retentionDays: days, now, keys: deps.keys })
        report.audit.push({ path: sink.path, removed: r.removed, ...(r.kept !== undefined ? { kept: r.kept } : {}) })
        if (r.removed.length > 0) {
          deps.emit({ action: 'audit-retention', outcome: 'success',
            retention: { removed: r.removed, anchor: r.anchor, anchors: r.anchors } })
        } else if (r.kept !== undefined) {
          // expired files were kept: the trail would not verify without them, or the disk refused; any
          // retention checkpoint already written is named
          deps.emit({ action: 'audit-retention', outcome: 'failure', reason: r.reason ?? 'unverifiable',
            retention: { removed: [], anchor: null, anchors: r.anchors } })
        }
      }
    }
    report.purged = await deps.store.purgeEnded(now - config.store.purgeAfterDays * DAY_MS)
    return report
  }

  const run = (): Promise<SweepReport> => {
    if (running !== null) return running
    running = sweep().finally(() => { running = null })
    return running
  }
  timer = every(clock, deps.intervalMs ?? DAY_MS, () => {
    run().catch((err: unknown) => { deps.onError?.(err) })
  })

  return {
    run,
    async close () {
      timer?.cancel()
      timer = null
      await running?.catch(() => {})
    }
  }
}
