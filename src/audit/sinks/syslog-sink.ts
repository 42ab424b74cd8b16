// Syslog over TCP or TLS (RFC 5425/6587, octet-counted), reconnecting with backoff. While the
// server is away, frames wait in a bounded queue; beyond it the oldest are dropped and counted.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { connect as netConnect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { formatSyslog, frame } from './syslog-format.js'
import { queuedAt } from './queue.js'
import type { AuditSink, SinkProblem, StaleLines } from './types.js'

export interface SyslogSinkOptions {
  url: string
  /** CA file (PEM) trusted for tls://; null uses the system store */
  ca: string | null
  queueSize: number
  appName: string
  hostName?: string
  onProblem: (p: SinkProblem) => void
  reconnectMinMs?: number
  reconnectMaxMs?: number
  connectTimeoutMs?: number
  /** how long flush() waits for queued frames to reach the socket */
  flushTimeoutMs?: number
  stale: StaleLines
}

export function parseSyslogUrl (url: string): { tls: boolean, host: string, port: number } {
  const m = /^(tcp|tls):\/\/(\[[^\]]+\]|[^/:]+):(\d+)$/.exec(url)
  const port = Number(m?.[3])
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid syslog url ${url}`)
  return { tls: m[1] === 'tls', host: (m[2] as string).replace(/^\[|\]$/g, ''), port }
}

export function createSyslogSink (o: SyslogSinkOptions): AuditSink {
  const target = parseSyslogUrl(o.url)
  const ca = o.ca ? readFileSync(o.ca) : undefined
  const minMs = o.reconnectMinMs ?? 100
  const maxMs = o.reconnectMaxMs ?? 10_000
  const header = { appName: o.appName, hostName: o.hostName ?? hostname(), procId: process.pid }

  let socket: Socket | null = null
  let connected = false
  let closed = false
  const queue: Array<{ frame: Buffer, seq: number }> = []
  let released = 0 // the last seq handed to the socket or dropped
  let backoff = minMs
  let retry: NodeJS.Timeout | null = null
  let dropped = 0
  let unreported = 0
  let errors = 0
  let reported = false // a failure has been reported and not yet cleared by a connection
  let enqueued = 0 // frames ever queued
  let settled = 0 // frames ever written to the socket or dropped
  const waiters = new Set<() => void>()

  const wake = () => { for (const w of [...waiters]) w() }

  function problem (error: string) {
    errors++
    if (!reported) {
      reported = true
      o.onProblem({ type: 'syslog', error })
    }
  }

  function pump () {
    while (connected && socket && queue.length > 0 && !socket.writableNeedDrain) {
      if ((queue[0] as { seq: number }).seq >= o.stale.staleFrom()) o.stale.relink()
      const next = queue.shift() as { frame: Buffer, seq: number }
      released = next.seq
      socket.write(next.frame, () => { settled++; wake() })
    }
  }

  function scheduleReconnect () {
    if (closed || retry) return
    retry = setTimeout(() => { retry = null; open() }, backoff)
    retry.unref()
    backoff = Math.min(backoff * 2, maxMs)
  }

  function open () {
    if (closed) return
    const opts = { host: target.host, port: target.port }
    const s: Socket = target.tls
      ? tlsConnect({ ...opts, ca, servername: isIP(target.host) ? undefined : target.host, minVersion: 'TLSv1.2' })
      : netConnect(opts)
    socket = s
    s.setNoDelay(true)
    s.setKeepAlive(true, 30_000)
    s.setTimeout(o.connectTimeoutMs ?? 5000,
      () => { if (!connected) s.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })) })
    s.once(target.tls ? 'secureConnect' : 'connect', () => {
      s.setTimeout(0)
      connected = true
      backoff = minMs
      reported = false
      if (unreported > 0) {
        o.onProblem({ type: 'syslog', error: 'queue_full', dropped: unreported })
        unreported = 0
      }
      pump()
      wake()
    })
    s.on('drain', pump)
    s.on('data', () => { /* a syslog server sends nothing; ignore anything it does */ })
    s.on('error', (err: NodeJS.ErrnoException) => problem(String(err.code ?? 'ESYSLOG')))
    s.on('close', () => {
      if (socket === s) { socket = null; connected = false }
      wake()
      scheduleReconnect()
    })
  }

  function flush (): Promise<boolean> {
    if (!connected) return Promise.resolve(false)
    const target = enqueued
    const dropsBefore = dropped
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(t); waiters.delete(check); resolve(ok) }
      const check = () => {
        if (settled >= target) done(dropped === dropsBefore)
        else if (!connected) done(false)
      }
      const t = setTimeout(() => done(false), o.flushTimeoutMs ?? 2000)
      waiters.add(check)
      check()
    })
  }

  open()

  return {
    type: 'syslog',
    write (line, event) {
      if (closed) return
      queue.push({ frame: frame(formatSyslog(event, line, header)), seq: event.gatehouse.chain.seq })
      enqueued++
      if (queue.length > o.queueSize) {
        const n = queue.length - o.queueSize
        // a dropped event is let out too: it can no longer be revised
        if ((queue[n - 1] as { seq: number }).seq >= o.stale.staleFrom()) o.stale.relink()
        released = Math.max(released, (queue[n - 1] as { seq: number }).seq)
        queue.splice(0, n)
        dropped += n
        unreported += n
        settled += n
        if (!connected) problem('queue_full')
      }
      pump()
    },
    writable: () => connected,
    flush,
    released: () => released,
    rewrite (events) {
      for (const e of events) {
        const seq = e.event.gatehouse.chain.seq
        const k = queuedAt(queue, seq, (q) => q.seq)
        if (k >= 0) queue[k] = { frame: frame(formatSyslog(e.event, e.line, header)), seq }
      }
    },
    async close () {
      if (closed) return
      // best effort at shutdown: a connection still being made gets a moment to take the queue
      if (queue.length > 0 && !connected) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, o.flushTimeoutMs ?? 2000)
          function done () { clearTimeout(t); waiters.delete(check); resolve() }
          function check () { if (connected) done() }
          waiters.add(check)
        })
      }
      if (connected && queue.length > 0) await flush()
      closed = true
      if (retry) clearTimeout(retry)
      const s = socket
      if (!s) return
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { s.destroy(); resolve() }, 1000)
        s.once('close', () => { clearTimeout(t); resolve() })
        s.end()
      })
    },
    stats: () => ({ dropped, queueDepth: queue.length, errors })
  }
}
