// revise(): an event that no sink has let out yet can be rebuilt (a request whose flush failed then
// records what its client really got), and the chain after it stays intact; one already out cannot.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles, type AuditInput } from '../../../src/audit/index.js'
import { auditConfig, fileSink, fullDisk, openLog, tempDir, verifyKeys } from './fixtures.js'

let cleanup: () => unknown = () => {}
afterEach(async () => { await cleanup(); cleanup = () => {} })

const request = (status: number, reason: string | null): AuditInput => ({
  action: 'model-request',
  outcome: status < 400 && reason === null ? 'success' : 'failure',
  userName: 'bob',
  sourceIp: '198.51.100.2',
  requestId: 'req-1',
  request: { method: 'POST', path: '/api/chat', status, durationNs: 1000, model: 'llama3.2:latest', inputTokens: 3, outputTokens: 5, decision: 'allow', reason, credential: 'api_key' }
})

interface Line {
  event: { action: string, outcome: string, reason?: string }
  http?: { response?: { status_code: number } }
  user?: { name: string }
  gatehouse: { chain: { seq: number } }
}
const read = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line)

async function expectVerifies (path: string): Promise<void> {
  const result = await verifyAuditFiles([path], verifyKeys)
  expect(result.firstBad).toBeUndefined()
  expect(result.ok).toBe(true)
}

/** A log whose one file sink holds a first event, then fails like a full disk until `disk.failing` is cleared. */
async function logOnFullDisk () {
  const t = tempDir()
  const path = join(t.dir, 'audit.log')
  const { disk, write } = fullDisk()
  const log = await openLog(auditConfig([fileSink(path)]), { tuning: { fileWrite: write } })
  cleanup = async () => { await log.close(); t.cleanup() }
  log.emit({ action: 'login', outcome: 'success', userName: 'bob' })
  await log.flush()
  disk.failing = true
  return { path, log, disk }
}

describe('audit revise', () => {
  it('rebuilds an event held back by a failing sink, re-links the ones after it, and the log verifies', async () => {
    const { path, log, disk } = await logOnFullDisk()
    const seq = log.emit(request(200, null))
    log.emit({ action: 'logout', outcome: 'success', userName: 'bob' })
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    expect(log.revise(seq, request(503, 'audit-unavailable'))).toBe(true)
    disk.failing = false
    const next = log.emit({ action: 'logout', outcome: 'success', userName: 'carol' })
    expect(next).toBeGreaterThanOrEqual(seq + 2) // the chain carries on after the re-linked events
    await log.flush()
    await log.close()
    const events = read(path)
    const revised = events.find((e) => e.gatehouse.chain.seq === seq)
    expect(revised?.http?.response?.status_code).toBe(503)
    expect(revised?.event).toMatchObject({ action: 'model-request', outcome: 'failure', reason: 'audit-unavailable' })
    expect(events.some((e) => e.http?.response?.status_code === 200)).toBe(false)
    await expectVerifies(path)
  })

  // No sink can write: every stream's end is emitted, its flush fails and it is revised while the
  // later streams' events are already queued. Re-linking is deferred until a sink lets those lines
  // out, so each event is linked again about once, not once per later revision.
  it('streams revised while the disk is full, others in flight: the chain is re-linked once, and the log verifies', async () => {
    const { path, log, disk } = await logOnFullDisk()
    const streams = 1500
    const inFlight = 100
    const open: Array<{ seq: number, id: string }> = []
    const revised: number[] = []
    const end = async () => {
      const s = open.shift() as { seq: number, id: string }
      await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
      expect(log.revise(s.seq, { ...request(503, 'audit-unavailable'), requestId: s.id })).toBe(true)
      revised.push(s.seq)
    }
    for (let i = 0; i < streams; i++) {
      open.push({ seq: log.emit({ ...request(200, null), requestId: `req-${i}` }), id: `req-${i}` })
      if (open.length > inFlight) await end()
    }
    while (open.length > 0) await end()
    disk.failing = false
    await log.flush()
    // each stalled event is linked again about once, not once per later revision (that would be
    // about streams x inFlight): the first ones when the first revised line still led the queue,
    // the rest once the disk took lines again
    expect(log.stats().relinked).toBeLessThanOrEqual(streams + inFlight + 1)
    await log.close()
    const events = read(path)
    for (const seq of revised) expect(events.find((e) => e.gatehouse.chain.seq === seq)?.http?.response?.status_code).toBe(503)
    expect(events.some((e) => e.http?.response?.status_code === 200)).toBe(false)
    await expectVerifies(path)
  })

  // the oldest of 10,000 held events stops being revisable as the next is emitted: one revised
  // before must be re-linked right then, and later revisions still land
  it('a revision that leaves the revisable window is re-linked first; the log verifies', async () => {
    const { path, log, disk } = await logOnFullDisk()
    const a = log.emit({ action: 'login', outcome: 'success', userName: 'orig-a' })
    const b = log.emit({ action: 'login', outcome: 'success', userName: 'orig-b' })
    expect(log.revise(b, { action: 'logout', outcome: 'failure', userName: 'rev-b' })).toBe(true)
    for (let i = 0; i < 10_010; i++) log.emit({ action: 'login', outcome: 'success', userName: `x${i}` })
    const late = log.emit({ action: 'login', outcome: 'success', userName: 'orig-late' })
    expect(log.revise(late, { action: 'logout', outcome: 'failure', userName: 'rev-late' })).toBe(true)
    expect(log.revise(a, { action: 'logout', outcome: 'failure', userName: 'rev-a' })).toBe(false)
    disk.failing = false
    await log.flush()
    await log.close()
    const events = read(path)
    const name = (seq: number) => events.find((e) => e.gatehouse.chain.seq === seq)?.user?.name
    expect([name(a), name(b), name(late)]).toEqual(['orig-a', 'rev-b', 'rev-late'])
    await expectVerifies(path)
  })

  it('refuses to revise an event a sink has already written', async () => {
    const t = tempDir()
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)]))
    cleanup = async () => { await log.close(); t.cleanup() }
    const seq = log.emit(request(200, null))
    await log.flush()
    expect(log.revise(seq, request(503, 'audit-unavailable'))).toBe(false)
    await log.close()
    expect(read(path).find((e) => e.gatehouse.chain.seq === seq)?.http?.response?.status_code).toBe(200)
  })
})
