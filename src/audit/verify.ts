// `gatehouse audit verify`: checks each replica's chain across files and every signed checkpoint,
// and names the first bad line with the reason.
import { accessSync, constants, createReadStream, existsSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { errors } from '../errors.js'
import type { KeyObject } from 'node:crypto'
import { expectedHash, GENESIS, isChainLink } from './chain.js'
import { parseCheckpoint } from './checkpoint.js'
import { baseOfRotated, checkpointPathOf, compareInLog, inRotationOrder, placeInLog, rotatedAt } from './files.js'
import { serializeLine } from './serialize.js'
import type { AuditEvent } from './types.js'

export type VerifyCode = 'malformed' | 'modified' | 'deleted' | 'inserted' | 'reordered' | 'chain_broken' |
  'chain_start' | 'forged_checkpoint' | 'checkpoint_mismatch' | 'truncated'

export interface VerifyResult {
  ok: boolean
  events: number
  checkpoints: number
  firstBad?: { file: string, line: number, reason: string, code: VerifyCode }
  replicas: Array<{ replica: string, firstSeq: number, lastSeq: number, lastCheckpointSeq: number | null }>
  /** not failures: facts an auditor should know (events not yet covered by a checkpoint, …) */
  notes: string[]
}

interface Line { line: number, text: string, partial: boolean }

/** Lines split on LF only (a CR inside a line is content, and content a writer never produces). */
async function * readLines (file: string): AsyncGenerator<Line> {
  let carry = Buffer.alloc(0)
  let n = 0
  for await (const chunk of createReadStream(file)) {
    let data = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : chunk as Buffer
    let start = 0
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      yield { line: ++n, text: decode(data.subarray(start, nl)), partial: false }
      start = nl + 1
    }
    data = data.subarray(start)
    carry = Buffer.from(data)
  }
  if (carry.length > 0) yield { line: n + 1, text: decode(carry), partial: true }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function decode (b: Buffer): string {
  try { return utf8.decode(b) } catch { return '\uFFFD<invalid UTF-8>' }
}

type Parsed = { ok: true, event: AuditEvent } | { ok: false, reason: string }

function parseEvent (l: Line): Parsed {
  if (l.partial) return { ok: false, reason: 'last line has no newline: an incomplete or appended write' }
  let v: unknown
  try { v = JSON.parse(l.text) } catch { return { ok: false, reason: 'line is not JSON' } }
  const chain = (v as { gatehouse?: { chain?: unknown } } | null)?.gatehouse?.chain
  if (!isChainLink(chain)) return { ok: false, reason: 'line has no valid gatehouse.chain' }
  // byte-exact: duplicate keys or re-encodings that a SIEM might read differently are edits too
  if (serializeLine(v) !== l.text) return { ok: false, reason: 'line is not in the form Gatehouse writes (edited)' }
  return { ok: true, event: v as AuditEvent }
}

/** Of two first remaining files named by retention checkpoints of one seq, the later one (it refuses more). */
function laterName (a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b
  const base = baseOfRotated(a) ?? a
  const [pa, pb] = [placeInLog(a, base), placeInLog(b, base)]
  return pa === null || pb === null ? a : (compareInLog(pb, pa) > 0 ? b : a)
}

/** Checkpoint files that belong to the given logs: `<log>.checkpoints`, also for rotated logs. */
function checkpointFilesFor (logs: string[]): string[] {
  const out = new Set<string>()
  for (const f of logs) {
    for (const c of [checkpointPathOf(f), checkpointPathOf(baseOfRotated(f) ?? f)]) if (existsSync(c)) out.add(c)
  }
  return [...out]
}

const maxKey = (m: Map<number, unknown>) => { let x = 0; for (const k of m.keys()) x = Math.max(x, k); return x }

export async function verifyAuditFiles (
  files: string[],
  keys: { chainKey: Buffer, checkpointPublicKey: KeyObject },
  options: {
    checkpointFiles?: string[]
    /** called with every event that verified so far, in the order checked (the run's result says whether all did) */
    observe?: (file: string, line: number, event: AuditEvent) => void
    /** signed checkpoint lines not written yet, checked as if they ended `file` (the retention sweep's, before it appends them) */
    planned?: { file: string, lines: string[] }
  } = {}
): Promise<VerifyResult> {
  for (const f of [...files, ...(options.checkpointFiles ?? [])]) {
    try {
      accessSync(f, constants.R_OK)
      if (!statSync(f).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
    } catch (err) {
      throw new errors.USAGE(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
  const given = files.filter((f) => f.endsWith('.checkpoints'))
  const logs = files.filter((f) => !f.endsWith('.checkpoints'))
  const cpFiles = [...new Set([...given, ...(options.checkpointFiles ?? []), ...checkpointFilesFor(logs)])]
  const result: VerifyResult = { ok: true, events: 0, checkpoints: 0, replicas: [], notes: [] }
  const bad = (file: string, line: number, code: VerifyCode, reason: string): VerifyResult =>
    ({ ...result, ok: false, firstBad: { file, line, code, reason: `${code}: ${reason}` } })

  // 1. checkpoints: every one must carry a valid signature
  /** `rotated`: the rotation checkpoint's signed time, the file it names (if any) and the log its checkpoint file belongs to */
  type Rotated = { time: string, file: string | undefined, log: string }
  /** `remaining`: the first file that remained after the deletion a retention checkpoint vouches for, the latest one signed */
  type Vouched = {
    hash: string, file: string, line: number, rotation: boolean, retention: boolean, rotated?: Rotated, remaining?: string
  }
  const cps = new Map<string, Map<number, Vouched>>()
  const sources: Array<{ file: string, lines: AsyncIterable<Line> | Iterable<Line> }> =
    cpFiles.map((file) => ({ file, lines: readLines(file) }))
  if (options.planned !== undefined) {
    const planned = options.planned.lines.map((text, i) => ({ line: i + 1, text, partial: false }))
    sources.push({ file: `${options.planned.file} (planned)`, lines: planned })
  }
  for (const { file, lines } of sources) {
    for await (const l of lines) {
      if (l.text === '' && !l.partial) continue
      const r = parseCheckpoint(l.text, keys.checkpointPublicKey)
      if (!r.ok) return bad(file, l.line, 'forged_checkpoint', r.reason)
      const c = r.checkpoint
      const byReplica = cps.get(c.replica) ?? new Map()
      cps.set(c.replica, byReplica)
      const seen = byReplica.get(c.seq)
      if (seen && seen.hash !== c.hash) return bad(file, l.line, 'forged_checkpoint',
        `contradicts the checkpoint at ${seen.file}:${seen.line} for seq ${c.seq}`)
      if (c.rotation === true && seen?.rotated !== undefined && seen.rotated.file !== c.file) {
        return bad(file, l.line, 'forged_checkpoint',
          `names another file than the rotation checkpoint at ${seen.file}:${seen.line} for seq ${c.seq}`)
      }
      const rotated = seen?.rotated ??
        (c.rotation === true ? { time: c.time, file: c.file, log: basename(file).slice(0, -'.checkpoints'.length) } : undefined)
      const remaining = laterName(seen?.remaining, c.remaining)
      byReplica.set(c.seq, { hash: c.hash, file, line: l.line, rotation: c.rotation === true || seen?.rotation === true,
        retention: c.retention === true || seen?.retention === true, ...(rotated !== undefined ? { rotated } : {}),
        ...(remaining !== undefined ? { remaining } : {}) })
      result.checkpoints++
    }
  }

  // 2. logs, in the order they were written: rotated files by the time in their names, active logs last
  //    (not by a file's first sequence number: a file shared by several chains starts with any of them)
  const sorted = inRotationOrder(logs)
  // the first file given of each log: the only place a rotation checkpoint may anchor a chain's start
  const firstOfLog = new Map<string, string>()
  for (const f of sorted) if (!firstOfLog.has(baseOfRotated(f) ?? f)) firstOfLog.set(baseOfRotated(f) ?? f, f)

  /** On the first out-of-sequence line: is the missing one further on (reordered) or gone (deleted)? */
  async function appearsLater (replica: string, seq: number, fromFile: number, fromLine: number): Promise<boolean> {
    for (let fi = fromFile; fi < sorted.length; fi++) {
      for await (const l of readLines(sorted[fi] as string)) {
        if (fi === fromFile && l.line <= fromLine) continue
        const p = parseEvent(l)
        if (p.ok && p.event.gatehouse.chain.replica === replica && p.event.gatehouse.chain.seq === seq) return true
      }
    }
    return false
  }

  /**
   * Why a replica's first line, seq > 1, may not start the check; null when it may. The first line of
   * the first file given of a log, right after a rotation checkpoint for the seq before it, starts
   * where earlier files were set aside (a later file's first line has the file before it given, so a
   * chain starting there had its earlier events cut out of a shared file), when that file's name
   * places it right after the file the checkpoint set aside (notNextAfter); any line right after a
   * retention checkpoint for the seq before it starts where the retention sweep deleted the chain's
   * earlier events (the sweep vouched that seq was the last of them), unless a file given comes before
   * the first file that remained, which the checkpoint names. A periodic checkpoint says
   * nothing about where a file begins, so a cut ending at one is still a cut.
   */
  function unanchored (replica: string, seq: number, prev: string, file: string, line: number): string | null {
    const anchor = cps.get(replica)?.get(seq - 1)
    const missing = `replica ${replica} starts at seq ${seq}: the events before it are missing and`
    if (anchor === undefined || anchor.hash !== prev) return `${missing} no signed checkpoint vouches for seq ${seq - 1}`
    if (anchor.retention) {
      const refused = retentionRefusal(anchor)
      return refused === null ? null : `${missing} the retention checkpoint for seq ${seq - 1} ${refused}`
    }
    if (!anchor.rotation) return `${missing} seq ${seq - 1} did not end a rotated file ` +
        `(its checkpoint at ${anchor.file}:${anchor.line} is not a rotation checkpoint, nor a retention checkpoint)`
    if (line !== 1) return `${missing} it is not the first line of its file, as the first event after a rotation is`
    if (firstOfLog.get(baseOfRotated(file) ?? file) !== file) {
      return `${missing} its file is not the first one given, so the file its rotation checkpoint set aside is here`
    }
    const misplaced = anchor.rotated === undefined ? null : notNextAfter(anchor.rotated, basename(file))
    return misplaced === null ? null : `${missing} ${misplaced}`
  }

  /**
   * Why a file named `name` cannot hold an event written before the file named `setAside` was set
   * aside, or null: such an event is in that file or an earlier one of its log (another process
   * may have set aside the file it was written to first). A file renamed, or events moved to a
   * later file, would otherwise let a chain's first events be placed after another chain's rotation.
   */
  function outsideSetAside (setAside: string, name: string): string | null {
    const base = baseOfRotated(setAside) as string
    const at = placeInLog(name, base)
    if (at === null) return `not a file of the log ${setAside} was rotated from`
    return compareInLog(at, placeInLog(setAside, base) as NonNullable<typeof at>) > 0 ? `which comes after ${setAside}` : null
  }

  /**
   * Why a retention checkpoint does not vouch for the files given, or null when it does: every one
   * the sweep writes names the first file that remained (one without is not the sweep's), and a file
   * of that log from before it is given would have held the events it says were deleted.
   */
  function retentionRefusal (v: Vouched): string | null {
    if (v.remaining === undefined) return 'names no remaining file'
    const before = givenBefore(v.remaining)
    return before === undefined ? null : `deleted the files before ${v.remaining}, but ${before} is given (the events were cut out of it)`
  }

  /** The name of a file given that comes before the file named `name` in that file's log. */
  function givenBefore (name: string): string | undefined {
    const base = baseOfRotated(name) ?? name
    const at = placeInLog(name, base) as NonNullable<ReturnType<typeof placeInLog>>
    return logs.map((f) => basename(f)).find((g) => { const p = placeInLog(g, base); return p !== null && compareInLog(p, at) < 0 })
  }

  /**
   * Why the file named `name` is not the one a rotation checkpoint's chain continues in; null when it
   * may be. Its name must place it in the log after the file set aside: right after the one the
   * checkpoint names, which must not be given (its events would then be here); with no name signed
   * (checkpoints written before it was), it must be the log of the checkpoint file, set aside no
   * earlier than the rotation. Names are not signed, so a renamed file is refused rather than trusted.
   */
  function notNextAfter (r: Rotated, name: string): string | null {
    const base = r.file === undefined ? r.log : baseOfRotated(r.file)
    const at = base === null ? null : placeInLog(name, base)
    if (base === null || at === null) {
      const log = r.file === undefined ? `${r.log} or one of its rotated files` : `in the log ${r.file} was rotated from`
      return `its file ${name} is not ${log}`
    }
    const rotatedAtTime = rotatedAt(name)
    if (rotatedAtTime !== null && rotatedAtTime < Date.parse(r.time)) {
      return `its file ${name} was set aside before the rotation at ${r.time} that the chain continues from`
    }
    if (r.file === undefined) return null
    const setAside = placeInLog(r.file, base) as NonNullable<ReturnType<typeof placeInLog>>
    if (compareInLog(at, setAside) <= 0) return `its file ${name} does not come after ${r.file}, the file its rotation checkpoint set aside`
    const between = logs.map((f) => basename(f)).find((g) => {
      const p = placeInLog(g, base)
      return p !== null && compareInLog(setAside, p) <= 0 && compareInLog(p, at) < 0
    })
    return between === undefined ? null
      : between === r.file ? `${r.file}, the file its rotation checkpoint set aside, is given: the events before it were cut out of it`
        : `${between} comes between ${r.file}, the file its rotation checkpoint set aside, and its file ${name}`
  }

  const state = new Map<string, { first: number, seq: number, hash: string, file: string, line: number }>()
  for (let fi = 0; fi < sorted.length; fi++) {
    const file = sorted[fi] as string
    for await (const l of readLines(file)) {
      const p = parseEvent(l)
      if (!p.ok) return bad(file, l.line, 'malformed', p.reason)
      const ev = p.event
      const c = ev.gatehouse.chain
      if (expectedHash(keys.chainKey, ev) !== c.hash) {
        return bad(file, l.line, 'modified', 'the hash does not match the line\'s content (line edited, or inserted without the key)')
      }
      const st = state.get(c.replica)
      const anchors = cps.get(c.replica)
      if (!st) {
        const why = c.seq === 1 ? (c.prev === GENESIS ? null : 'seq 1 does not start from the genesis hash')
          : unanchored(c.replica, c.seq, c.prev, file, l.line)
        if (why !== null) return bad(file, l.line, 'chain_start', why)
      } else if (c.seq > st.seq + 1) {
        const want = st.seq + 1
        return (await appearsLater(c.replica, want, fi, l.line))
          ? bad(file, l.line, 'reordered', `expected seq ${want} of replica ${c.replica}, found seq ${c.seq}; seq ${want} comes later`)
          : bad(file, l.line, 'deleted',
            `expected seq ${want} of replica ${c.replica}, found seq ${c.seq}: ${c.seq - want} event(s) missing`)
      } else if (c.seq <= st.seq) {
        // everything up to st.seq was contiguous, so this seq was seen before: a copy was inserted
        return bad(file, l.line, 'inserted', `seq ${c.seq} of replica ${c.replica} appears again after seq ${st.seq}`)
      } else if (c.prev !== st.hash) {
        return bad(file, l.line, 'chain_broken', `prev does not match the hash of seq ${st.seq}`)
      }
      const cp = anchors?.get(c.seq)
      if (cp && cp.hash !== c.hash) {
        return bad(file, l.line, 'checkpoint_mismatch',
          `seq ${c.seq} differs from what the signed checkpoint at ${cp.file}:${cp.line} vouches for`)
      }
      const setAsideIn = cp?.rotated?.file === undefined ? null : outsideSetAside(cp.rotated.file, basename(file))
      if (cp && setAsideIn !== null) {
        return bad(file, l.line, 'checkpoint_mismatch', `seq ${c.seq} of replica ${c.replica} is in ${basename(file)}, ${setAsideIn}: ` +
          `the signed rotation checkpoint at ${cp.file}:${cp.line} vouches that it was written before ${cp.rotated?.file} was set aside`)
      }
      state.set(c.replica, { first: st?.first ?? c.seq, seq: c.seq, hash: c.hash, file, line: l.line })
      result.events++
      options.observe?.(file, l.line, ev)
    }
  }

  // 3. a checkpoint beyond the last line means the tail was cut
  for (const [replica, byReplica] of cps) {
    const maxCp = maxKey(byReplica)
    const st = state.get(replica)
    const cp = byReplica.get(maxCp)
    if (!st) {
      if (logs.length === 0) continue
      // a chain with no events left is accounted for only by the retention sweep that deleted them
      const refused = cp?.retention === true ? retentionRefusal(cp) : 'vouches for it'
      if (refused !== null) {
        return bad(sorted[sorted.length - 1] ?? logs[0] as string, 1, 'truncated',
          `no events of replica ${replica}, but the signed checkpoint at ${cp?.file}:${cp?.line} for seq ${maxCp} ${refused}`)
      }
      result.notes.push(`replica ${replica}: no events left; retention deleted them up to seq ${maxCp} ` +
        `(signed retention checkpoint at ${cp?.file}:${cp?.line})`)
      continue
    }
    if (maxCp > st.seq) {
      return bad(st.file, st.line + 1, 'truncated',
        `the log of replica ${replica} ends at seq ${st.seq} (line ${st.line}) but the signed checkpoint at ` +
        `${cp?.file}:${cp?.line} vouches for seq ${maxCp}: the tail was cut`)
    }
  }
  for (const [replica, st] of state) {
    const byReplica = cps.get(replica)
    const lastCp = byReplica && byReplica.size > 0 ? maxKey(byReplica) : null
    result.replicas.push({ replica, firstSeq: st.first, lastSeq: st.seq, lastCheckpointSeq: lastCp })
    if (lastCp === null || lastCp < st.seq) {
      result.notes.push(`replica ${replica}: seq ${(lastCp ?? 0) + 1}..${st.seq} are not yet covered by a signed checkpoint`)
    }
    if (st.first > 1) {
      const anchor = byReplica?.get(st.first - 1)
      result.notes.push(anchor?.retention === true
        ? `replica ${replica}: starts at seq ${st.first}, anchored by the signed retention checkpoint at ${anchor.file}:${anchor.line} ` +
          '(earlier events deleted by retention)'
        : `replica ${replica}: starts at seq ${st.first}, anchored by a signed rotation checkpoint (earlier files not given)`)
    }
  }
  return result
}
