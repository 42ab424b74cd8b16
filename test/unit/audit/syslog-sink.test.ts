// The syslog sink over a real TCP socket: delivery, reconnection, and the bounded queue's drop count.
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { auditConfig, fileSink, keys, lines, openLog, tempDir } from './fixtures.js'
import { expectedHash } from '../../../src/audit/chain.js'
import type { SinkConfig } from '../../../src/config/schema.js'
import { eventually } from '../../helpers/eventually.js'

let cleanup: Array<() => unknown> = []
afterEach(async () => { for (const c of cleanup.reverse()) await c(); cleanup = [] })

/** A syslog receiver that splits octet-counted frames, whatever the TCP chunking. */
function receiver (port = 0): Promise<{ server: Server, port: number, frames: string[], sockets: Set<Socket> }> {
  const frames: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    let buf = Buffer.alloc(0)
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const sp = buf.indexOf(0x20)
        if (sp < 0) return
        const len = Number(buf.subarray(0, sp).toString())
        if (!Number.isInteger(len) || buf.length < sp + 1 + len) return
        frames.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'))
        buf = buf.subarray(sp + 1 + len)
      }
    })
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    resolve({ server, port: (server.address() as { port: number }).port, frames, sockets })
  }))
}

const stop = (r: { server: Server, sockets: Set<Socket> }) => new Promise<void>((resolve) => {
  for (const s of r.sockets) s.destroy()
  r.server.close(() => resolve())
})

async function freePort (): Promise<number> {
  const r = await receiver()
  await stop(r)
  return r.port
}

const syslog = (port: number, queueSize = 10000): SinkConfig => ({ type: 'syslog', url: `tcp://127.0.0.1:${port}`, ca: null, queueSize, appName: 'gatehouse' })
const jsonOf = (frame: string) => JSON.parse(frame.slice(frame.indexOf('] {') + 2))
const tuning = { syslogReconnectMinMs: 20, syslogReconnectMaxMs: 100, syslogFlushTimeoutMs: 500 }

describe('syslog sink', () => {
  it('delivers every event as one octet-counted RFC 5424 frame, in order', async () => {
    const r = await receiver()
    cleanup.push(() => stop(r))
    const log = await openLog(auditConfig([syslog(r.port)]), { tuning })
    cleanup.push(() => log.close())
    await eventually(() => expect(log.writable()).toBe(true))
    for (let i = 0; i < 50; i++) log.emit({ action: 'login', outcome: 'success', userName: `u${i}`, requestId: `q${i}` })
    await log.flush()
    await eventually(() => expect(r.frames).toHaveLength(50))
    expect(r.frames.map((f) => jsonOf(f).gatehouse.chain.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(r.frames.every((f) => f.startsWith('<86>1 '))).toBe(true)
  })

  it('counts drops beyond queueSize while the server is down, reports them as audit-sink-error, and delivers the rest when it is back', async () => {
    const t = tempDir()
    cleanup.push(t.cleanup)
    const port = await freePort()
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path), syslog(port, 5)], { failClosed: false }), { tuning })
    cleanup.push(() => log.close())
    for (let i = 0; i < 12; i++) log.emit({ action: 'login', outcome: 'failure', userName: `u${i}`, reason: 'bad_password' })
    await log.flush() // the file sink keeps everything
    // the failed connection is reported as an event of its own, once the sink has noticed
    const { inFile, st } = await eventually(() => {
      const inFile = lines(path).map((l) => JSON.parse(l))
      expect(inFile.filter((e) => e.event.action === 'audit-sink-error').map((e) => e.gatehouse.sink.type)).toContain('syslog')
      return { inFile, st: log.stats() }
    })
    expect(log.writable()).toBe(true) // the file still writes
    expect(inFile.length).toBeGreaterThanOrEqual(13) // 12 + the sink error
    expect(st.dropped).toBe(inFile.length - 5)
    expect(st.queueDepth).toBe(5)
    expect(st.sinkErrors).toBeGreaterThanOrEqual(1)

    const r = await receiver(port)
    cleanup.push(() => stop(r))
    await eventually(() => expect(r.frames.map(jsonOf).map((e) => e.gatehouse.sink?.dropped)).toContainEqual(expect.any(Number)))
    const got = r.frames.map(jsonOf)
    // the queue kept the newest five, and the report of what was dropped follows them
    expect(got.slice(0, 5).map((e) => e.gatehouse.chain.seq)).toEqual(inFile.slice(-5).map((e) => e.gatehouse.chain.seq))
    const report = got.find((e) => e.gatehouse.sink?.dropped !== undefined)
    expect(report.gatehouse.sink).toEqual({ type: 'syslog', error: 'queue_full', dropped: st.dropped })
    expect(report.event.action).toBe('audit-sink-error')
  })

  it('is not writable while the server is away and reconnects when it returns', async () => {
    const r = await receiver()
    const port = r.port
    const log = await openLog(auditConfig([syslog(port)]), { tuning })
    cleanup.push(() => log.close())
    await eventually(() => expect(log.writable()).toBe(true))
    await stop(r)
    await eventually(() => expect(log.writable()).toBe(false))
    log.emit({ action: 'logout', outcome: 'success', userName: 'late' })
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    const r2 = await receiver(port)
    cleanup.push(() => stop(r2))
    await eventually(() => expect(log.writable()).toBe(true))
    await eventually(() => expect(r2.frames.map((f) => jsonOf(f).user?.name)).toContain('late'))
  })

  // syslog as the only sink and the server away: each request's event is revised after its flush
  // fails, and what arrives once the server is back carries the revisions, correctly linked — when
  // the queue kept everything (re-linked as the first line goes out) and when it dropped the oldest
  // (re-linked before a revised line is dropped)
  it.each([{ queue: 1000, case: 'the queue kept all' }, { queue: 40, case: 'the queue dropped the oldest' }])(
    'events revised while the server is away arrive re-linked: $case', async ({ queue }) => {
    const port = await freePort()
    const log = await openLog(auditConfig([syslog(port, queue)]), { tuning })
    cleanup.push(() => log.close())
    const inFlight = 10
    const open: Array<{ seq: number, id: string }> = []
    const end = async () => {
      const s = open.shift() as { seq: number, id: string }
      await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
      expect(log.revise(s.seq, { action: 'logout', outcome: 'failure', userName: 'revised', requestId: s.id, reason: 'audit-unavailable' })).toBe(true)
    }
    for (let i = 0; i < 100; i++) {
      open.push({ seq: log.emit({ action: 'login', outcome: 'success', userName: 'original', requestId: `q${i}` }), id: `q${i}` })
      if (open.length > inFlight) await end()
    }
    while (open.length > 0) await end()
    const r = await receiver(port)
    cleanup.push(() => stop(r))
    await eventually(() => expect(r.frames.length).toBeGreaterThanOrEqual(Math.min(queue, 100)))
    const got = r.frames.map(jsonOf).filter((e) => e.user?.name !== undefined && e.event.action !== 'audit-sink-error')
    expect(got.length).toBeGreaterThanOrEqual(Math.min(queue, 100) - 10)
    expect(got.every((e) => e.user.name === 'revised')).toBe(true)
    const chained = r.frames.map(jsonOf)
    for (const [k, e] of chained.entries()) {
      expect(expectedHash(keys.chainKey, e), `hash of seq ${e.gatehouse.chain.seq}`).toBe(e.gatehouse.chain.hash)
      const before = chained[k - 1]
      if (before !== undefined && before.gatehouse.chain.seq === e.gatehouse.chain.seq - 1) expect(e.gatehouse.chain.prev).toBe(before.gatehouse.chain.hash)
    }
  })
})
