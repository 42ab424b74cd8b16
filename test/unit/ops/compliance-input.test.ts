// The I/O probes behind the compliance checks: file sinks must be writable where they will be
// created, syslog must accept a connection, keys are judged without being revealed, and audit
// statistics survive hostile content.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeSink, secretFacts } from '../../../src/ops/compliance-input.js'
import { auditFilesOf, readAuditStatistics } from '../../../src/ops/audit-stats.js'

let dir: string
let tcp: Server
let port: number
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-ops-probe-'))
  tcp = createServer((s) => { s.on('error', () => {}); s.resume() })
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
  port = (tcp.address() as { port: number }).port
})
afterAll(async () => {
  await new Promise((resolve) => tcp.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

const file = (path: string) => ({ type: 'file' as const, path, maxBytes: 1024, flushIntervalMs: 100 })
const syslog = (url: string) => ({ type: 'syslog' as const, url, ca: null, queueSize: 10, appName: 'gatehouse' })

describe('probeSink', () => {
  it('a file sink passes when its file, or a folder the sink would create, can be written', async () => {
    expect(await probeSink(file(join(dir, 'audit.log')), 1000)).toMatchObject({ ok: true })
    expect(await probeSink(file(join(dir, 'not', 'yet', 'audit.log')), 1000)).toMatchObject({ ok: true })
  })
  it('a file sink under a regular file fails, naming why', async () => {
    writeFileSync(join(dir, 'plain'), 'x')
    const p = await probeSink(file(join(dir, 'plain', 'audit.log')), 1000)
    expect(p).toMatchObject({ type: 'file', ok: false })
    expect(p.error).toMatch(/ENOTDIR|EACCES/)
  })
  it('a syslog sink passes when its server accepts a connection and fails when nothing listens', async () => {
    expect(await probeSink(syslog(`tcp://127.0.0.1:${port}`), 1000)).toMatchObject({ ok: true })
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadPort = (closed.address() as { port: number }).port
    await new Promise((resolve) => closed.close(resolve))
    const p = await probeSink(syslog(`tcp://127.0.0.1:${deadPort}`), 1000)
    expect(p).toMatchObject({ ok: false })
    expect(p.error).toContain('ECONNREFUSED')
  })
  it('a TLS syslog sink fails against a server that does not speak TLS (within the timeout)', async () => {
    const p = await probeSink(syslog(`tls://127.0.0.1:${port}`), 300)
    expect(p.ok).toBe(false)
  })
})

describe('secretFacts', () => {
  const k = (byte: number) => Buffer.alloc(32, byte)
  const random = (seed: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 31 + seed * 7) & 0xff))
  it('distinct random keys are fine, and the facts never contain the key', () => {
    const keys = { totpKey: random(1), maskingKey: random(2), auditChainKey: random(3) }
    const f = secretFacts(keys)
    expect(f.duplicates).toEqual([])
    expect(f.keys.every((x) => !x.weak)).toBe(true)
    const text = JSON.stringify(f)
    for (const key of Object.values(keys)) {
      expect(text).not.toContain(key.toString('hex'))
      expect(text).not.toContain(key.toString('base64'))
    }
  })
  it('an all-zero key is weak and a key reused for two purposes is a duplicate', () => {
    const f = secretFacts({ totpKey: k(0), maskingKey: random(5), auditChainKey: random(5) })
    expect(f.keys.find((x) => x.name === 'totp-encryption')?.weak).toBe(true)
    expect(f.duplicates).toEqual([['masking-hmac', 'audit-chain-hmac']])
  })
})

describe('readAuditStatistics', () => {
  it('counts by action and outcome inside the period, tolerates junk, and is not fooled by __proto__ actions', async () => {
    const logs = join(dir, 'stats')
    mkdirSync(logs)
    const ev = (at: string, action: string, outcome = 'success') => JSON.stringify({ '@timestamp': at, event: { action, outcome } })
    writeFileSync(join(logs, 'audit.log.20260101T000000000Z'), ev('2026-01-01T00:00:00Z', 'login') + '\n')
    writeFileSync(join(logs, 'audit.log'), [
      ev('2026-02-01T00:00:00Z', 'login', 'failure'), 'not json', ev('2026-02-02T00:00:00Z', '__proto__'),
      JSON.stringify({ '@timestamp': '2026-02-03T00:00:00Z', event: { action: 'config-loaded', outcome: 'success' }, gatehouse: { config: { hash: 'h1' } } })
    ].join('\n') + '\n')
    const files = auditFilesOf(join(logs, 'audit.log'))
    expect(files.map((f) => f.slice(logs.length + 1))).toEqual(['audit.log.20260101T000000000Z', 'audit.log'])
    const s = await readAuditStatistics(files, { from: Date.parse('2026-01-15T00:00:00Z'), to: Date.parse('2026-03-01T00:00:00Z') })
    expect(s.events).toBe(3)
    expect(s.unreadable).toBe(1)
    expect(s.byAction.login).toEqual({ success: 0, failure: 1 })
    expect(Object.getOwnPropertyDescriptor(s.byAction, '__proto__')?.value).toEqual({ success: 1, failure: 0 })
    expect(({} as Record<string, unknown>).success).toBeUndefined()
    expect(s.configHashes).toEqual(['h1'])
    expect([s.firstEventAt, s.lastEventAt]).toEqual(['2026-02-01T00:00:00.000Z', '2026-02-03T00:00:00.000Z'])
  })
})
