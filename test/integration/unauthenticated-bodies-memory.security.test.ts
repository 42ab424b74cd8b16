// Security: unauthenticated clients cannot make Gatehouse read and hold request bodies. The real
// `gatehouse serve` runs in a child process; many parallel unauthenticated posts of nearly the body
// limit each must leave its peak resident memory (VmHWM) within a small bound of where it started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { startServe, type Served } from '../helpers/process.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig } from '../helpers/cli.js'

const MiB = 1024 * 1024
const PARALLEL = 24
const BODY = 19 * MiB
/** what the attack may add to the peak; holding the bodies would add PARALLEL × BODY (456 MiB) */
const BOUND = 96 * MiB

let served: Served
let fake: FakeOllama
let port: number

/** peak resident set size of a process, in bytes (Linux) */
function peakRss (pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error('no VmHWM in /proc/<pid>/status')
  return Number(m[1]) * 1024
}

/** Posts BODY bytes as fast as the server takes them, unauthenticated; resolves with the status, or 0 when cut without one. */
function post (chunk: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let reply = ''
    let sent = 0
    const finish = () => { socket.destroy(); resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)) }
    socket.on('error', finish)
    socket.on('close', finish)
    socket.on('data', (d: Buffer) => { reply += d.toString('latin1'); if (reply.includes('\r\n\r\n')) finish() })
    const pump = () => {
      while (sent < BODY && !socket.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, BODY - sent))
        sent += piece.length
        if (!socket.write(piece)) { socket.once('drain', pump); return }
      }
    }
    socket.once('connect', () => {
      socket.write(`POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY}\r\n\r\n`)
      pump()
    })
  })
}

beforeAll(async () => {
  fake = await startFakeOllama()
  const cfg = tempConfig({ listen: { host: '127.0.0.1', port: 0 }, tls: { enabled: false }, upstream: { url: fake.url } })
  served = await startServe(cfg.file)
  port = Number(new URL(served.url).port)
})
afterAll(async () => {
  served.child.kill('SIGKILL')
  await fake.close()
})

describe('unauthenticated bodies are never held', () => {
  it(`${PARALLEL} parallel unauthenticated ${BODY / MiB} MiB posts are refused and leave the peak RSS within ${BOUND / MiB} MiB`, async () => {
    const pid = served.child.pid as number
    // warm up the paths the attack takes, so their one-time allocations are not counted
    expect(await post(Buffer.alloc(64 * 1024, 0x61))).toBe(401)
    const before = peakRss(pid)
    const chunk = Buffer.alloc(256 * 1024, 0x61)
    const statuses = await Promise.all(Array.from({ length: PARALLEL }, () => post(chunk)))
    const grown = peakRss(pid) - before
    // a client still writing when the server closes may see the reset before the 401 (0 here); none gets further
    expect(statuses.every((s) => s === 401 || s === 0), statuses.join(',')).toBe(true)
    expect(statuses.filter((s) => s === 401).length, statuses.join(',')).toBeGreaterThan(0)
    expect(grown, `peak RSS grew by ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(BOUND)
  }, 120_000)
})
