// Disposal of old audit files: rotated files older than the retention period are deleted, oldest
// first, only when the files that remain still verify on their own. A signed rotation checkpoint
// marks where the remaining files begin; every other chain with events in the files that go (the
// CLI's `<replica>-cli` chain shares the file) gets a signed retention checkpoint for its last event
// in them (taken from a verified run of the whole trail), written before anything is deleted, from
// which that chain continues in the rest.
import { existsSync, readFileSync, unlinkSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { parseCheckpoint, signCheckpoint, type SignedCheckpoint } from './checkpoint.js'
import { appendWhole, checkpointPathOf, rotatedAt, rotatedSiblings } from './files.js'
import { verifyAuditFiles } from './verify.js'

const DAY_MS = 86_400_000

export interface RetentionAnchor { replica: string, seq: number, hash: string }
/** A chain point the remaining files verify from, and the kind of signed checkpoint that vouches for it. */
interface NamedAnchor extends RetentionAnchor { kind: 'rotation' | 'retention' }

export interface RetentionResult {
  /** base names of the rotated files deleted, oldest first */
  removed: string[]
  /** the rotation checkpoint that set the newest deleted file aside; null when nothing was removed */
  anchor: RetentionAnchor | null
  /** every anchor of the remaining files: the rotation one first, then one retention checkpoint per other chain */
  anchors: NamedAnchor[]
  /**
   * why expired files were kept: the trail or the remaining files would not verify (`unverifiable`),
   * or writing the checkpoints or deleting a file failed (`io_error`). `anchors` then names the
   * retention checkpoints written, if any
   */
  kept?: string
  reason?: 'unverifiable' | 'io_error'
}

export interface RetentionOptions {
  /** the file sink's active log */
  path: string
  retentionDays: number
  now: number
  /** `checkpointKey` (private) signs the retention checkpoints; the public key checks every checkpoint */
  keys: { chainKey: Buffer, checkpointPublicKey: KeyObject, checkpointKey: KeyObject }
  /** deletes a file (unlinkSync by default) */
  remove?: (file: string) => void
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

/**
 * The signed rotation and retention checkpoints of a checkpoint file (lines that do not verify are
 * skipped: verify names them). Periodic ones, most of the file, are not checked twice.
 */
function anchoringCheckpoints (file: string, publicKey: KeyObject): SignedCheckpoint[] {
  let text: string
  try { text = readFileSync(file, 'utf8') } catch { return [] }
  const out: SignedCheckpoint[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"rotation":true') && !line.includes('"retention":true')) continue
    const r = parseCheckpoint(line, publicKey)
    if (r.ok) out.push(r.checkpoint)
  }
  return out
}

/**
 * Each chain's last event in the files that would go, taken from one verified run of the whole trail
 * (those files and the ones that remain), so that only events in their place count: a line copied
 * into an old file is no chain's last event there. A string when the trail does not verify, or when
 * one of those events is younger than the cutoff: such a line was moved into an old file, and
 * deleting it would dispose of an event before its time.
 */
async function lastEvents (expired: string[], remaining: string[], o: RetentionOptions, checkpoints: string[],
  cutoff: number): Promise<Map<string, RetentionAnchor> | string> {
  const going = new Set(expired)
  const last = new Map<string, RetentionAnchor>()
  let young: string | null = null
  const whole = await verifyAuditFiles([...expired, ...remaining], o.keys, {
    checkpointFiles: checkpoints,
    observe: (file, line, event) => {
      if (!going.has(file)) return
      if (young === null && !(Date.parse(event['@timestamp']) < cutoff)) {
        young = `${basename(file)}:${line} holds an event of ${event['@timestamp']}, inside the retention period`
      }
      const c = event.gatehouse.chain
      last.set(c.replica, { replica: c.replica, seq: c.seq, hash: c.hash })
    }
  })
  if (young !== null) return young
  if (!whole.ok) return whole.firstBad?.reason ?? 'the trail does not verify'
  return last
}

/**
 * The signed retention checkpoints of `anchors` that the file does not hold yet, planned in memory:
 * each names the first file that remains, so that it anchors nothing while an earlier file is given.
 */
function planRetentionCheckpoints (anchors: RetentionAnchor[], existing: SignedCheckpoint[], remaining: string,
  key: KeyObject, now: number): Array<{ anchor: RetentionAnchor, line: string }> {
  const time = new Date(now).toISOString()
  return anchors
    .filter((a) => !existing.some((c) => c.retention === true && c.replica === a.replica && c.seq === a.seq && c.hash === a.hash &&
      c.remaining === remaining))
    .map((a) => ({ anchor: a, line: signCheckpoint(key, { ...a, time, retention: true, remaining }) }))
}

/** Appends the planned lines, each whole, and syncs the file; `written` hears of each line appended. */
async function appendCheckpoints (file: string, planned: Array<{ anchor: RetentionAnchor, line: string }>,
  written: (a: RetentionAnchor) => void): Promise<void> {
  if (planned.length === 0) return
  const fh = await open(file, 'a', 0o600)
  try {
    for (const p of planned) {
      await appendWhole(fh, p.line + '\n')
      written(p.anchor)
    }
    await fh.sync()
  } finally {
    await fh.close()
  }
}

const errCode = (err: unknown) => String((err as NodeJS.ErrnoException).code ?? 'EIO')

export async function applyAuditRetention (o: RetentionOptions): Promise<RetentionResult> {
  const cutoff = o.now - o.retentionDays * DAY_MS
  const oldestFirst = rotatedSiblings(o.path).reverse()
  const keep = (kept: string): RetentionResult => ({ removed: [], anchor: null, anchors: [], kept, reason: 'unverifiable' })
  // only a run of the oldest files goes: the trail that remains has no hole
  let n = 0
  while (n < oldestFirst.length && (rotatedAt(oldestFirst[n] as string) ?? Infinity) < cutoff) n++
  if (n === 0) return { removed: [], anchor: null, anchors: [] }
  const expired = oldestFirst.slice(0, n)
  const remaining = [...oldestFirst.slice(n), ...(existsSync(o.path) ? [o.path] : [])]
  const first = remaining[0] === undefined ? null : firstLink(remaining[0])
  if (first === null) return keep('no event remains to anchor the trail')
  const checkpoints = checkpointPathOf(o.path)
  const checkpointFiles = existsSync(checkpoints) ? [checkpoints] : []
  const last = await lastEvents(expired, remaining, o, checkpointFiles, cutoff)
  if (typeof last === 'string') return keep(last)
  const cps = anchoringCheckpoints(checkpoints, o.keys.checkpointPublicKey)
  // the file that remains first begins right after the rotation that set the one before it aside: the
  // process that rotated writes the new file's first line, the next event of the chain it vouched for
  const rotation = cps.find((c) => c.rotation === true && c.replica === first.replica && c.seq === first.seq - 1)
  if (rotation === undefined) return keep(`no signed rotation checkpoint for seq ${first.seq - 1} of replica ${first.replica}`)
  const anchor = { replica: rotation.replica, seq: rotation.seq, hash: rotation.hash }
  // every other chain of the files that go continues from a retention checkpoint: planned in memory,
  // checked with the remaining files, and written only right before the deletion (one written for
  // a deletion that did not happen would let anyone cut those events out of files still present)
  const retained = [...last.values()].filter((e) => e.replica !== anchor.replica)
  const planned = planRetentionCheckpoints(retained, cps, basename(remaining[0] as string), o.keys.checkpointKey, o.now)
  const check = await verifyAuditFiles(remaining, o.keys,
    { checkpointFiles, planned: { file: checkpoints, lines: planned.map((p) => p.line) } })
  if (!check.ok) return keep(check.firstBad?.reason ?? 'the remaining files do not verify')
  const written: NamedAnchor[] = []
  try {
    await appendCheckpoints(checkpoints, planned, (a) => written.push({ ...a, kind: 'retention' }))
  } catch (err) {
    const kept = `the retention checkpoints could not be written (${errCode(err)})`
    return { removed: [], anchor: null, anchors: written, kept, reason: 'io_error' }
  }
  const anchors: NamedAnchor[] = [{ ...anchor, kind: 'rotation' }, ...retained.map((a) => ({ ...a, kind: 'retention' as const }))]
  const remove = o.remove ?? unlinkSync
  const removed: string[] = []
  for (const f of expired) {
    try {
      remove(f)
    } catch (err) {
      const kept = `${basename(f)} could not be deleted (${errCode(err)})`
      return removed.length > 0 ? { removed, anchor, anchors, kept, reason: 'io_error' }
        : { removed, anchor: null, anchors: written, kept, reason: 'io_error' }
    }
    removed.push(basename(f))
  }
  return { removed, anchor, anchors }
}
