// Append-only file sink. Plain fs rather than sonic-boom: the sink must know exactly which events
// reached the file (a checkpoint may vouch only for those), rotate on an exact line boundary with a
// checkpoint in between, fdatasync on its own schedule and on demand, and notice when its path was
// deleted or replaced underneath it — none of which sonic-boom exposes.
import {
  closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync
} from 'node:fs'
import { dirname } from 'node:path'
import type { ChainPoint } from '../chain.js'
import { lastChainPoint, rotatedName, rotatedSiblings } from '../files.js'
import type { AuditEvent } from '../types.js'
import { queuedAt } from './queue.js'
import type { AuditSink, FileSinkExtras, SinkProblem, StaleLines } from './types.js'

export interface FileSinkOptions {
  path: string
  maxBytes: number
  flushIntervalMs: number
  replica: string
  now: () => number
  onProblem: (p: SinkProblem) => void
  /** called after the old file is synced and before it is renamed, with its last event and the path it is renamed to */
  beforeRotate: (last: ChainPoint, rotatedPath: string) => void
  /** lines held in memory while the file cannot be written; the oldest are dropped beyond this */
  maxPending?: number
  /** the write(2) used for log lines: tests inject one that fails part-way, like a full disk */
  write?: (fd: number, buf: Buffer, offset: number, length: number) => number
  stale: StaleLines
}

/** A queued line (without its newline), its size in bytes with the newline, and its chain point. */
interface Pending { line: string, bytes: number, point: ChainPoint }

const errCode = (err: unknown) => String((err as NodeJS.ErrnoException)?.code ?? 'EIO')

export function createFileSink (o: FileSinkOptions): AuditSink & FileSinkExtras {
  const maxPending = o.maxPending ?? 100_000
  let fd: number | null = null
  let ino = { dev: 0, ino: 0 }
  let size = 0 // bytes of the open file that are whole lines: where the next line starts
  // part of a line a failed write left at [to, end) of the file, until it is cut off
  let torn: { to: number, end: number } | null = null
  let healthy = true // so that a failure to open at start is reported
  let closed = false
  // the queue is pending[head..]: lines leave from the front by moving `head`, so dropping the oldest
  // of a full queue costs the same at 100,000 held lines as at ten
  let pending: Pending[] = []
  let head = 0
  let last: ChainPoint | null = null
  let written = 0 // lines written, ever
  let synced = 0 // lines known to be on disk
  let syncing: Promise<void> | null = null
  let dropped = 0
  let unreported = 0
  let errors = 0
  let scheduled = false
  let flushWaiters = 0 // flush() / syncedPoint() calls waiting for their lines to be on disk

  function fail (err: unknown) {
    if (healthy) {
      errors++
      healthy = false
      o.onProblem({ type: 'file', error: errCode(err) })
    }
  }

  function recover () {
    if (healthy) return
    healthy = true
    if (unreported > 0) {
      o.onProblem({ type: 'file', error: 'dropped_while_unwritable', dropped: unreported })
      unreported = 0
    }
  }

  function open (createDir: boolean): boolean {
    try {
      // a failed mkdir shows up as the open's error, which names the real problem
      if (createDir) try { mkdirSync(dirname(o.path), { recursive: true, mode: 0o700 }) } catch { /* see open */ }
      const f = openSync(o.path, 'a', 0o600)
      const st = fstatSync(f)
      if (st.size > 0) {
        // a line cut by a crash must not swallow the next event: start on a fresh line
        const tail = Buffer.alloc(1)
        const r = openSync(o.path, 'r')
        try { readSync(r, tail, 0, 1, st.size - 1) } finally { closeSync(r) }
        if (tail[0] !== 0x0a) writeSync(f, '\n')
      }
      fd = f
      ino = { dev: st.dev, ino: st.ino }
      size = fstatSync(f).size
      torn = null
      return true
    } catch (err) {
      fd = null
      fail(err)
      return false
    }
  }

  function closeFd () {
    if (fd === null) return
    const f = fd
    fd = null
    try { fdatasyncSync(f) } catch { /* the data either made it or the sink is already failing */ }
    try { closeSync(f) } catch { /* already closed */ }
  }

  /** The path must still name the file we hold open; a deleted or replaced log is reopened. */
  function checkPath () {
    if (fd === null) { if (open(false)) recover(); return }
    let same = false
    try {
      const st = statSync(o.path)
      same = st.ino === ino.ino && st.dev === ino.dev
    } catch { /* missing */ }
    if (!same) {
      closeFd()
      if (open(false)) recover()
    }
  }

  /** False when the file could not be rotated; the caller then keeps appending rather than lose events. */
  function rotate (): boolean {
    if (fd === null) return false
    try {
      fdatasyncSync(fd)
      synced = written
      const to = rotatedName(o.path, o.now())
      if (last !== null) o.beforeRotate(last, to)
      renameSync(o.path, to)
    } catch (err) {
      fail(err)
      return false
    }
    closeFd()
    open(false)
    return true
  }

  const writeSome = o.write ?? ((f: number, buf: Buffer, off: number, len: number) => writeSync(f, buf, off, len))
  /** Writes all of `buf`; when a write fails part-way, remembers where the fragment it left lies. */
  function writeAll (buf: Buffer) {
    const f = fd as number
    const start = fstatSync(f).size
    let off = 0
    try {
      while (off < buf.length) off += writeSome(f, buf, off, buf.length - off)
    } catch (err) {
      if (off > 0) torn = { to: start, end: start + off }
      throw err
    }
  }

  const queued = () => pending.length - head

  /** The queue now starts at pending[to]; the array is compacted once most of it is behind `head`. */
  function leaveUpTo (to: number) {
    head = to
    if (head === pending.length) {
      pending = []
      head = 0
    } else if (head > 1024 && head * 2 > pending.length) {
      pending = pending.slice(head)
      head = 0
    }
  }

  /** Lines [i, j) encoded straight into one buffer of `bytes`, each followed by its newline. */
  function encode (i: number, j: number, bytes: number): Buffer {
    const out = Buffer.allocUnsafe(bytes)
    let off = 0
    for (let k = i; k < j; k++) {
      off += out.write((pending[k] as Pending).line, off, 'utf8')
      out[off++] = 0x0a
    }
    return out
  }

  /**
   * A write cut short (ENOSPC mid-line) leaves a fragment after the last whole line. It is cut off
   * before anything else is written, so the retry starts the line afresh and the file never holds a
   * line that is not JSON. False while the cut itself fails: nothing may be written after a fragment.
   * Only a fragment that still ends the file is cut: if another process appended to a shared file
   * after it, cutting would take that process's lines too.
   */
  function cutBack (): boolean {
    if (torn === null) return true
    if (fd === null) return false
    try {
      if (fstatSync(fd).size === torn.end) ftruncateSync(fd, torn.to)
      torn = null
      return true
    } catch (err) {
      fail(err)
      return false
    }
  }

  /**
   * Writes what is queued. Lines that cannot be written stay queued. Out-of-date lines (see
   * StaleLines) are re-linked only once every line before them is written: while the disk keeps
   * failing, each try writes the up-to-date lines ahead of them and the re-linking waits. A sink
   * that is failing writes one line, then twice as many after each success: a full or flaky disk
   * costs each try about what the disk last took, not the encoding of everything queued.
   */
  function drain () {
    scheduled = false
    if (queued() === 0) return
    if (fd === null) { if (!open(false)) return }
    if (!cutBack()) return
    let i = head
    let oversize = false
    let batch = healthy ? Infinity : 1 // lines per write
    try {
      while (i < pending.length) {
        if ((pending[i] as Pending).point.seq >= o.stale.staleFrom()) o.stale.relink()
        const stale = o.stale.staleFrom()
        if ((pending[i] as Pending).point.seq >= stale) break // still out of date: nothing may go out
        // one write per run of up-to-date lines that fits before the size limit
        let j = i
        let bytes = 0
        while (j < pending.length && (pending[j] as Pending).point.seq < stale && j - i < batch) {
          const len = (pending[j] as Pending).bytes
          if (!oversize && size + bytes + len > o.maxBytes && size + bytes > 0) break
          bytes += len
          j++
        }
        if (j === i) {
          oversize = !rotate()
          if (fd === null) break
          continue
        }
        writeAll(encode(i, j, bytes))
        batch *= 2
        size += bytes
        written += j - i
        last = (pending[j - 1] as Pending).point
        i = j
      }
      recover()
    } catch (err) {
      fail(err)
      cutBack()
    }
    leaveUpTo(i)
  }

  function syncOnce (): Promise<void> {
    if (syncing) return syncing
    if (fd === null) return Promise.resolve()
    const upto = written
    const f = fd
    syncing = new Promise<void>((resolve) => {
      fdatasync(f, (err) => {
        syncing = null
        if (err && f === fd) fail(err)
        else if (!err) synced = Math.max(synced, upto)
        // lines queued while the sync ran (see write) go out now, in one write
        if (queued() > 0 && !scheduled) { scheduled = true; setImmediate(drain) }
        resolve()
      })
    })
    return syncing
  }

  /**
   * Group commit: while an fdatasync is in flight, lines queued now cannot be covered by it, so a
   * flush waits for it first and then writes everything queued meanwhile in one write, covered by
   * one next fdatasync — instead of one write per request. (Lines nobody flushes are not held back:
   * see write.)
   */
  async function groupCommit (): Promise<void> {
    if (syncing !== null) await syncing
  }

  const timer = setInterval(() => {
    checkPath()
    drain()
    if (written > synced && healthy) void syncOnce()
  }, o.flushIntervalMs)
  timer.unref()

  open(true)
  const resume = (() => {
    const here = lastChainPoint(o.path, o.replica)
    if (here) return here
    // only the newest rotated file: older ones each end at a checkpoint, which the log also reads
    const newest = rotatedSiblings(o.path)[0]
    return newest === undefined ? null : lastChainPoint(newest, o.replica)
  })()
  last = resume

  return {
    type: 'file',
    path: o.path,
    write (line: string, ev: AuditEvent) {
      if (closed) return
      pending.push({ line, bytes: Buffer.byteLength(line, 'utf8') + 1,
        point: { seq: ev.gatehouse.chain.seq, hash: ev.gatehouse.chain.hash } })
      if (queued() > maxPending) {
        const n = queued() - maxPending
        leaveUpTo(head + n)
        dropped += n
        unreported += n
      }
      // while requests wait on an fdatasync, lines wait for its end and are then written together
      // (group commit); with nobody waiting, a line goes out as soon as the event loop is free
      if (!scheduled && (syncing === null || flushWaiters === 0)) { scheduled = true; setImmediate(drain) }
    },
    writable: () => healthy && fd !== null,
    async flush () {
      flushWaiters++
      try {
        await groupCommit()
        drain()
        if (!healthy || queued() > 0) return false
        const target = written
        for (let tries = 0; synced < target && tries < 3 && healthy; tries++) await syncOnce()
        return synced >= target && healthy
      } finally { flushWaiters-- }
    },
    async syncedPoint () {
      flushWaiters++
      try {
        await groupCommit()
        drain()
        const point = last
        const target = written
        for (let tries = 0; synced < target && tries < 3 && healthy; tries++) await syncOnce()
        return synced >= target ? point : null
      } finally { flushWaiters-- }
    },
    resumePoint: () => resume,
    released: () => last?.seq ?? 0,
    rewrite (events) {
      for (const { line, event } of events) {
        const { seq, hash } = event.gatehouse.chain
        const k = queuedAt(pending, seq, (p) => p.point.seq)
        if (k >= head) pending[k] = { line, bytes: Buffer.byteLength(line, 'utf8') + 1, point: { seq, hash } }
      }
    },
    async close () {
      if (closed) return
      drain()
      closed = true
      clearInterval(timer)
      if (syncing) await syncing
      closeFd()
    },
    stats: () => ({ dropped, queueDepth: queued(), errors })
  }
}
