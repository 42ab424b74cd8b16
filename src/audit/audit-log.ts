// The one audit emitter: builds each event, links it into this replica's chain, writes it to every
// sink, and writes signed checkpoints beside each file sink.
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { Writable } from 'node:stream'
import { basename } from 'node:path'
import { every, type Clock } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import { ConfigError, errors } from '../errors.js'
import { createChain, REPLICA_ID, type ChainPoint } from './chain.js'
import { keyFingerprint, parseCheckpoint, signCheckpoint } from './checkpoint.js'
import { buildEvent } from './event.js'
import { appendWhole, appendWholeSync, checkpointPathOf, findFromEnd } from './files.js'
import { createFileSink } from './sinks/file-sink.js'
import { createStdoutSink } from './sinks/stdout-sink.js'
import { createSyslogSink } from './sinks/syslog-sink.js'
import type { AuditSink, FileSinkExtras, SinkProblem } from './sinks/types.js'
import type { AuditEvent, AuditInput, Unchained } from './types.js'

/** events kept for revise() while no sink has let them out; older ones can no longer be revised */
const MAX_REVISABLE = 10_000

export interface AuditLog {
  /** builds the ECS event, chains it, writes it to all sinks; never throws for sink trouble. Returns its seq (0 once closed). */
  emit: (input: AuditInput) => number
  /**
   * Rebuilds event `seq` from `input` (same timestamp), when no sink has let it out yet — for an event
   * whose flush failed, so that it records what the client got instead. The events after it are
   * re-linked before any sink lets one of them out, once for all revisions made meanwhile. False
   * when a sink already wrote or sent it (it then stands as written).
   */
  revise: (seq: number, input: AuditInput) => boolean
  /** at least one sink can write right now */
  writable: () => boolean
  /** durable in at least one sink (fdatasync for files); rejects GH_ERR_AUDIT_UNAVAILABLE when none */
  flush: () => Promise<void>
  /** final checkpoint, flush, close sinks */
  close: () => Promise<void>
  /** `relinked`: events linked again after a revision, ever (each revision's re-linking is deferred and shared) */
  stats: () => { events: number, sinkErrors: number, dropped: number, queueDepth: number, relinked: number }
  /** per sink, in config order: for /metrics and the compliance check */
  sinks: () => Array<{ type: 'file' | 'stdout' | 'syslog', writable: boolean, dropped: number, queueDepth: number, errors: number }>
}

export interface AuditLogDeps {
  config: GatehouseConfig['audit']
  chainKey: Buffer
  /** Ed25519 private key */
  checkpointKey: KeyObject
  replicaId: string
  clock: Clock
  hostName?: string
  /** where a stdout sink writes; process.stdout by default */
  stdout?: Writable
  logger?: { warn: (obj: object, msg: string) => void }
  /** test knobs */
  tuning?: {
    syslogReconnectMinMs?: number
    syslogReconnectMaxMs?: number
    syslogFlushTimeoutMs?: number
    maxPending?: number
    /** the file sinks' write(2), for fault injection */
    fileWrite?: (fd: number, buf: Buffer, offset: number, length: number) => number
  }
}

type FileSink = AuditSink & FileSinkExtras

function validate (deps: AuditLogDeps): void {
  const problems: string[] = []
  if (!REPLICA_ID.test(deps.replicaId)) problems.push('audit.replicaId: must be 1-64 of A-Z a-z 0-9 . _ -')
  if (deps.chainKey.length < 32) problems.push('audit chain key: must be at least 32 bytes')
  if (deps.checkpointKey.type !== 'private' || deps.checkpointKey.asymmetricKeyType !== 'ed25519') {
    problems.push('audit checkpoint key: must be an Ed25519 private key')
  }
  if (problems.length > 0) throw new ConfigError(problems)
}

/**
 * The furthest valid checkpoint of `replica` in a checkpoint file, read from its tail: its newest own
 * one, or a retention checkpoint beyond it. The retention sweep appends those later, for the chain's
 * last event in the files it deleted, which may be behind the chain's own newest checkpoint.
 */
function lastCheckpoint (file: string, replica: string, publicKey: KeyObject): ChainPoint | null {
  const marker = JSON.stringify(replica)
  // typed by assertion: assigned inside the callback, where narrowing from `null` does not follow
  let retained = null as ChainPoint | null
  const own = findFromEnd(file, (line) => {
    if (!line.includes(marker)) return null
    const r = parseCheckpoint(line, publicKey)
    if (!r.ok || r.checkpoint.replica !== replica) return null
    const point = { seq: r.checkpoint.seq, hash: r.checkpoint.hash }
    if (r.checkpoint.retention !== true) return point
    if (retained === null || point.seq > retained.seq) retained = point
    return null
  })
  return retained !== null && (own === null || retained.seq > own.seq) ? retained : own
}

export async function createAuditLog (deps: AuditLogDeps): Promise<AuditLog> {
  validate(deps)
  const { config, clock, replicaId: replica } = deps
  const publicKey = createPublicKey(deps.checkpointKey)
  const fingerprint = keyFingerprint(publicKey)
  const tuning = deps.tuning ?? {}
  let closed = false
  let events = 0
  let relinked = 0
  let checkpointErrors = 0
  let sinceCheckpoint = 0
  let checkpointScheduled = false
  const checkpointed = new Map<FileSink, number>()

  const problems: SinkProblem[] = []
  let problemScheduled = false
  // Sinks report from inside their own I/O callbacks; the event is emitted on a later tick.
  const onProblem = (p: SinkProblem) => {
    deps.logger?.warn({ sink: p.type, error: p.error, dropped: p.dropped }, 'audit sink problem')
    problems.push(p)
    if (!problemScheduled) {
      problemScheduled = true
      setImmediate(() => {
        problemScheduled = false
        for (const q of problems.splice(0)) {
          if (!closed) emit({ action: 'audit-sink-error', outcome: 'failure', sink: q })
        }
      })
    }
  }

  /** `rotatedPath`: the file `point` ended, as it is set aside (rotation checkpoints only) */
  const signed = (point: ChainPoint, rotatedPath?: string) =>
    signCheckpoint(deps.checkpointKey, { replica, seq: point.seq, hash: point.hash, time: new Date(clock.now()).toISOString(),
      rotation: rotatedPath !== undefined, ...(rotatedPath !== undefined ? { file: basename(rotatedPath) } : {}) }, fingerprint) + '\n'
  const vouched = (sink: FileSink, seq: number) => checkpointed.set(sink, Math.max(checkpointed.get(sink) ?? 0, seq))
  const checkpointFailed = (err: unknown) => {
    checkpointErrors++
    onProblem({ type: 'file', error: String((err as NodeJS.ErrnoException).code ?? 'EIO') })
  }

  /**
   * The rotation checkpoint, written synchronously between the old file's last sync and its rename
   * (rotations are rare). It is written even when a periodic one already covers `point`: only it
   * vouches that `point` ended a file, which is what lets the next file be verified on its own.
   */
  function writeRotationCheckpoint (sink: FileSink, point: ChainPoint, rotatedPath: string): void {
    try {
      const fd = openSync(checkpointPathOf(sink.path), 'a', 0o600)
      try {
        appendWholeSync(fd, signed(point, rotatedPath))
        fsyncSync(fd)
      } finally { closeSync(fd) }
      vouched(sink, point.seq)
    } catch (err) {
      checkpointFailed(err)
    }
  }

  /** A periodic checkpoint, off the event loop: appended and fsynced asynchronously. */
  async function appendCheckpoint (sink: FileSink, point: ChainPoint): Promise<void> {
    if ((checkpointed.get(sink) ?? 0) >= point.seq) return
    try {
      const fh = await openFile(checkpointPathOf(sink.path), 'a', 0o600)
      try {
        await appendWhole(fh, signed(point))
        await fh.sync()
      } finally { await fh.close() }
      vouched(sink, point.seq)
    } catch (err) {
      checkpointFailed(err)
    }
  }

  let checkpointRun: Promise<void> | null = null
  let checkpointAgain = false
  /**
   * Checkpoints what each file sink has synced to disk (a checkpoint never vouches for a line that
   * is not): the fdatasync and the append run asynchronously. Runs one at a time; a request made
   * while one runs makes it go round once more.
   */
  function checkpoint (): Promise<void> {
    checkpointScheduled = false
    sinceCheckpoint = 0
    if (checkpointRun !== null) {
      checkpointAgain = true
      return checkpointRun
    }
    checkpointRun = (async () => {
      do {
        checkpointAgain = false
        for (const s of fileSinks) {
          const point = await s.syncedPoint()
          if (point) await appendCheckpoint(s, point)
        }
      } while (checkpointAgain)
    })().finally(() => { checkpointRun = null })
    return checkpointRun
  }

  // the first seq revised since the last re-linking (Infinity: none). Its line and every later one are
  // out of date in the sinks until relink(); events emitted meanwhile are linked onto the stale head
  // and re-linked with them. Each sink calls relink() before it lets such a line out (StaleLines), so
  // under a long sink outage many revisions cost one re-linking, not one each.
  let staleFrom = Infinity
  const stale = { staleFrom: () => staleFrom, relink }

  const sinks: AuditSink[] = []
  const fileSinks: FileSink[] = []
  for (const sc of config.sinks) {
    if (sc.type === 'file') {
      const s: FileSink = createFileSink({
        path: sc.path,
        maxBytes: sc.maxBytes,
        flushIntervalMs: sc.flushIntervalMs,
        replica,
        now: clock.now,
        onProblem,
        beforeRotate: (last, to) => writeRotationCheckpoint(s, last, to),
        maxPending: tuning.maxPending,
        write: tuning.fileWrite,
        stale
      })
      fileSinks.push(s)
      sinks.push(s)
    } else if (sc.type === 'stdout') {
      sinks.push(createStdoutSink({ stream: deps.stdout ?? process.stdout, onProblem }))
    } else {
      sinks.push(createSyslogSink({
        url: sc.url,
        ca: sc.ca,
        queueSize: sc.queueSize,
        appName: sc.appName,
        hostName: deps.hostName,
        onProblem,
        reconnectMinMs: tuning.syslogReconnectMinMs,
        reconnectMaxMs: tuning.syslogReconnectMaxMs,
        flushTimeoutMs: tuning.syslogFlushTimeoutMs,
        stale
      }))
    }
  }

  // Continue this replica's chain from the furthest point any file sink has: its last line, or its
  // last signed checkpoint when lines after that were lost while the gateway was down (the gap then
  // shows at the first new line instead of being papered over).
  let resume: ChainPoint | null = null
  for (const s of fileSinks) {
    const tail = s.resumePoint()
    const cp = lastCheckpoint(checkpointPathOf(s.path), replica, publicKey)
    if (cp && tail) checkpointed.set(s, Math.min(cp.seq, tail.seq))
    let best = tail
    if (cp && (!tail || cp.seq > tail.seq)) {
      deps.logger?.warn({ path: s.path, checkpointSeq: cp.seq, lastLineSeq: tail?.seq ?? 0 },
        'audit log ends before its last checkpoint: lines were lost')
      best = cp
    }
    if (best && (!resume || best.seq > resume.seq)) resume = best
  }
  let chain = createChain(deps.chainKey, replica, resume)
  // events no sink has let out yet, oldest first: what revise() may still rebuild. recent[from..] holds
  // consecutive seqs; an entry is updated in place when it is re-linked.
  type Revisable = { built: Unchained, time: number, event: AuditEvent, line: string }
  let recent: Revisable[] = []
  let from = 0 // recent[0..from) can no longer be revised
  const released = () => sinks.reduce((m, s) => Math.max(m, s.released()), 0)
  const indexOf = (seq: number) => {
    const first = recent[from]
    const k = first === undefined ? -1 : from + seq - first.event.gatehouse.chain.seq
    return k >= from && k < recent.length ? k : -1
  }

  function relink (): void {
    if (staleFrom === Infinity) return
    const i = indexOf(staleFrom)
    const first = recent[i]
    if (first === undefined) { staleFrom = Infinity; return }
    const { seq, prev } = first.event.gatehouse.chain
    const relinker = createChain(deps.chainKey, replica, { seq: seq - 1, hash: prev })
    const rebuilt: Array<{ line: string, event: AuditEvent }> = []
    for (let k = i; k < recent.length; k++) {
      const r = recent[k] as Revisable
      const linked = relinker.linkLine(r.built)
      r.event = linked.event
      r.line = linked.line
      rebuilt.push(linked)
    }
    relinked += rebuilt.length
    for (const s of sinks) s.rewrite(rebuilt)
    const head = (recent.at(-1) as Revisable).event.gatehouse.chain
    chain = createChain(deps.chainKey, replica, { seq: head.seq, hash: head.hash })
    // only now: had anything above thrown, the lines would still count as out of date
    staleFrom = Infinity
  }

  function emit (input: AuditInput): number {
    if (closed) return 0
    const time = clock.now()
    const built = buildEvent(input, { time, replica, hostName: deps.hostName })
    const out = released()
    while (from < recent.length && (recent[from] as Revisable).event.gatehouse.chain.seq <= out) from++
    if (recent.length - from >= MAX_REVISABLE) {
      // the oldest stops being revisable: it must be linked right before that
      if ((recent[from] as Revisable).event.gatehouse.chain.seq >= staleFrom) relink()
      from++
    }
    if (from > 1024 && from * 2 > recent.length) { recent = recent.slice(from); from = 0 }
    // in `recent` before any sink sees it: a sink may call relink() from inside write()
    const { event, line } = chain.linkLine(built)
    const entry: Revisable = { built, time, event, line }
    recent.push(entry)
    for (const s of sinks) s.write(entry.line, entry.event)
    events++
    if (++sinceCheckpoint >= config.checkpoint.everyEvents && !checkpointScheduled && fileSinks.length > 0) {
      checkpointScheduled = true
      setImmediate(() => { if (!closed) void checkpoint() })
    }
    return entry.event.gatehouse.chain.seq
  }

  function revise (seq: number, input: AuditInput): boolean {
    if (closed || seq <= released()) return false
    const r = recent[indexOf(seq)]
    if (r === undefined) return false
    r.built = buildEvent(input, { time: r.time, replica, hostName: deps.hostName })
    staleFrom = Math.min(staleFrom, seq)
    return true
  }

  const timer = every(clock, config.checkpoint.everySeconds * 1000, () => { if (!closed) void checkpoint() })

  return {
    emit,
    revise,
    writable: () => sinks.some((s) => s.writable()),
    async flush () {
      const results = await Promise.all(sinks.map((s) => s.flush()))
      if (!results.some(Boolean)) throw new errors.AUDIT_UNAVAILABLE()
    },
    async close () {
      if (closed) return
      // let sink problems already reported become events before the chain is sealed
      await new Promise((resolve) => setImmediate(resolve))
      closed = true
      timer.cancel()
      await checkpoint()
      await Promise.all(sinks.map((s) => s.flush()))
      await Promise.all(sinks.map((s) => s.close()))
    },
    sinks: () => sinks.map((s) => ({ type: s.type, writable: s.writable(), ...s.stats() })),
    stats () {
      const st = sinks.map((s) => s.stats())
      return {
        events,
        relinked,
        sinkErrors: checkpointErrors + st.reduce((a, s) => a + s.errors, 0),
        dropped: st.reduce((a, s) => a + s.dropped, 0),
        queueDepth: st.reduce((a, s) => a + s.queueDepth, 0)
      }
    }
  }
}
