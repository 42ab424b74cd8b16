// Disposal of old audit files: rotated files older than the retention period are deleted, oldest
// first, only when the files that remain still verify on their own — their first line follows a
// signed rotation checkpoint, which then anchors the rest of the trail.
import { existsSync, readFileSync, unlinkSync } from 'node:fs'
import { basename } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { parseCheckpoint } from './checkpoint.js'
import { checkpointPathOf, rotatedSiblings } from './files.js'
import { verifyAuditFiles } from './verify.js'

const DAY_MS = 86_400_000
const STAMP = /\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:\.\d+)?$/

export interface RetentionAnchor { replica: string, seq: number, hash: string }

export interface RetentionResult {
  /** base names of the rotated files deleted, oldest first */
  removed: string[]
  /** the rotation checkpoint the first remaining file follows; null when nothing was removed */
  anchor: RetentionAnchor | null
  /** why expired files were kept: the remaining files would not verify on their own */
  kept?: string
}

export interface RetentionOptions {
  /** the file sink's active log */
  path: string
  retentionDays: number
  now: number
  keys: { chainKey: Buffer, checkpointPublicKey: KeyObject }
  /** deletes a file (unlinkSync by default) */
  remove?: (file: string) => void
}

/** When a rotated file was set aside (its name's UTC stamp); every event in it is older. */
export function rotatedAt (file: string): number | null {
  const m = STAMP.exec(file)
  if (m === null) return null
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s, ms)
}

/** The first event's chain link of a file, or null when it has none. */
function firstLink (file: string): { replica: string, seq: number } | null {
  let text: string
  try { text = readFileSync(file, 'utf8') } catch { return null }
  const nl = text.indexOf('\n')
  if (nl < 0) return null
  try {
    const chain = (JSON.parse(text.slice(0, nl)) as { gatehouse?: { chain?: { replica?: unknown, seq?: unknown } } }).gatehouse?.chain
    return typeof chain?.replica === 'string' && typeof chain.seq === 'number' ? { replica: chain.replica, seq: chain.seq } : null
  } catch { return null }
}

/** The signed rotation checkpoint for `seq` of `replica`. */
function rotationCheckpoint (file: string, replica: string, seq: number, publicKey: KeyObject): RetentionAnchor | null {
  let text: string
  try { text = readFileSync(file, 'utf8') } catch { return null }
  for (const line of text.split('\n')) {
    if (line === '') continue
    const r = parseCheckpoint(line, publicKey)
    if (r.ok && r.checkpoint.rotation === true && r.checkpoint.replica === replica && r.checkpoint.seq === seq) {
      return { replica, seq, hash: r.checkpoint.hash }
    }
  }
  return null
}

export async function applyAuditRetention (o: RetentionOptions): Promise<RetentionResult> {
  const cutoff = o.now - o.retentionDays * DAY_MS
  const oldestFirst = rotatedSiblings(o.path).reverse()
  // only a run of the oldest files goes: the trail that remains has no hole
  let n = 0
  while (n < oldestFirst.length && (rotatedAt(oldestFirst[n] as string) ?? Infinity) < cutoff) n++
  if (n === 0) return { removed: [], anchor: null }
  const expired = oldestFirst.slice(0, n)
  const remaining = [...oldestFirst.slice(n), ...(existsSync(o.path) ? [o.path] : [])]
  const first = remaining[0] === undefined ? null : firstLink(remaining[0])
  if (first === null || first.seq <= 1) return { removed: [], anchor: null, kept: 'no event remains to anchor the trail' }
  const checkpoints = checkpointPathOf(o.path)
  const anchor = rotationCheckpoint(checkpoints, first.replica, first.seq - 1, o.keys.checkpointPublicKey)
  if (anchor === null) {
    return { removed: [], anchor: null, kept: `no signed rotation checkpoint for seq ${first.seq - 1} of replica ${first.replica}` }
  }
  const check = await verifyAuditFiles(remaining, o.keys, { checkpointFiles: existsSync(checkpoints) ? [checkpoints] : [] })
  if (!check.ok) return { removed: [], anchor: null, kept: check.firstBad?.reason ?? 'the remaining files do not verify' }
  const remove = o.remove ?? unlinkSync
  const removed: string[] = []
  for (const f of expired) {
    remove(f)
    removed.push(basename(f))
  }
  return { removed, anchor }
}
