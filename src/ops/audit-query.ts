// GET /admin/audit: the latest events of the file sink's current file, newest first, filtered by
// action, user (acting or target) and outcome, with whether the chain of the sink's files verifies.
import { open } from 'node:fs/promises'
import type { KeyObject } from 'node:crypto'
import type { GatehouseConfig, SinkConfig } from '../config/schema.js'
import { verifyAuditFiles } from '../audit/index.js'
import { auditFilesOf } from './audit-stats.js'

export interface AuditQuery { action?: string, user?: string, outcome?: 'success' | 'failure', limit?: number }

export interface AuditQueryResult {
  /** the file read, or null when no file sink is configured */
  file: string | null
  events: unknown[]
  chain: { ok: boolean, events: number, firstBad?: { file: string, line: number, reason: string } } | { ok: null, error: string }
}

/** only the tail of a large current file is read: a console shows the latest events */
const TAIL_BYTES = 8 * 1024 * 1024
const DEFAULT_LIMIT = 100

interface EventView {
  event?: { action?: unknown, outcome?: unknown }
  user?: { name?: unknown, target?: { name?: unknown } }
}

/** Pure: the matching events of `lines` (oldest first), newest first, at most `limit`. */
export function selectEvents (lines: readonly string[], q: AuditQuery): unknown[] {
  const limit = q.limit ?? DEFAULT_LIMIT
  const user = q.user?.toLowerCase()
  const out: unknown[] = []
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    const text = lines[i] as string
    if (text.trim() === '') continue
    let e: EventView
    try { e = JSON.parse(text) as EventView } catch { continue }
    if (q.action !== undefined && e.event?.action !== q.action) continue
    if (q.outcome !== undefined && e.event?.outcome !== q.outcome) continue
    if (user !== undefined) {
      const names = [e.user?.name, e.user?.target?.name].filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase())
      if (!names.includes(user)) continue
    }
    out.push(e)
  }
  return out
}

async function tailLines (path: string): Promise<string[]> {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    const start = Math.max(0, size - TAIL_BYTES)
    const buf = Buffer.alloc(size - start)
    await fh.read(buf, 0, buf.length, start)
    const lines = buf.toString('utf8').split('\n')
    // a partial first line (the tail started inside it) is dropped
    return start > 0 ? lines.slice(1) : lines
  } finally {
    await fh.close()
  }
}

export function createAuditQuery (config: Pick<GatehouseConfig, 'audit'>,
  keys: () => { chainKey: Buffer, checkpointPublicKey: KeyObject }): (q: AuditQuery) => Promise<AuditQueryResult> {
  const sink = config.audit.sinks.find((s): s is Extract<SinkConfig, { type: 'file' }> => s.type === 'file')
  return async (q) => {
    if (sink === undefined) return { file: null, events: [], chain: { ok: null, error: 'no file sink is configured' } }
    let lines: string[]
    try {
      lines = await tailLines(sink.path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      lines = []
    }
    let chain: AuditQueryResult['chain']
    try {
      const r = await verifyAuditFiles(auditFilesOf(sink.path), keys())
      const bad = r.firstBad
      chain = { ok: r.ok, events: r.events, ...(bad ? { firstBad: { file: bad.file, line: bad.line, reason: bad.reason } } : {}) }
    } catch (err) {
      chain = { ok: null, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }
    }
    return { file: sink.path, events: selectEvents(lines, q), chain }
  }
}
