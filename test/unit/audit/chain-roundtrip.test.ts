import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { verifyAuditFiles, AUDIT_ACTIONS, type AuditInput } from '../../../src/audit/index.js'
import { createChain, expectedHash, GENESIS } from '../../../src/audit/chain.js'
import { buildEvent } from '../../../src/audit/event.js'
import { auditConfig, fileSink, keys, lines, openLog, tempDir, verifyKeys, writeEvents } from './fixtures.js'

let cleanup = () => {}
afterEach(() => cleanup())

describe('audit hash chain', () => {
  it('links each event to the previous hash with consecutive seq numbers', () => {
    const chain = createChain(keys.chainKey, 'r1', null)
    const a = chain.link(buildEvent({ action: 'login', outcome: 'success' }, { time: 0, replica: 'r1' }))
    const b = chain.link(buildEvent({ action: 'logout', outcome: 'success' }, { time: 1, replica: 'r1' }))
    expect(a.gatehouse.chain).toMatchObject({ replica: 'r1', seq: 1, prev: GENESIS })
    expect(b.gatehouse.chain).toMatchObject({ replica: 'r1', seq: 2, prev: a.gatehouse.chain.hash })
    expect(expectedHash(keys.chainKey, b)).toBe(b.gatehouse.chain.hash)
    expect(expectedHash(Buffer.alloc(32, 1), b)).not.toBe(b.gatehouse.chain.hash)
  })

  it('writes events of every action that verify as intact, with checkpoints', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'logs', 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)], { checkpoint: { everyEvents: 5, everySeconds: 60 } }))
    for (const action of AUDIT_ACTIONS) log.emit({ action, outcome: 'success', userName: 'alice' } as AuditInput)
    await log.flush()
    await new Promise((resolve) => setImmediate(resolve))
    await writeEvents(log, 7)
    await log.close()
    const written = lines(path).map((l) => JSON.parse(l))
    const total = AUDIT_ACTIONS.length + 7
    expect(written.map((e) => e.gatehouse.chain.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(readFileSync(path + '.checkpoints', 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2)
    const r = await verifyAuditFiles([path], verifyKeys)
    expect(r.firstBad).toBeUndefined()
    expect(r).toMatchObject({ ok: true, events: total })
    expect(r.replicas).toEqual([{ replica: 'r1', firstSeq: 1, lastSeq: total, lastCheckpointSeq: total }])
  })

  it('detects a change to any byte of any line', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(log, 6)
    await log.close()
    const original = readFileSync(path)
    const { writeFileSync } = await import('node:fs')
    await fc.assert(fc.asyncProperty(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), async (pos, delta) => {
      const copy = Buffer.from(original)
      copy[pos] = ((copy[pos] as number) + delta) % 256
      writeFileSync(path, copy)
      const r = await verifyAuditFiles([path], verifyKeys)
      expect(r.ok).toBe(false)
    }), { numRuns: 60 })
  })
})

describe('chain HMAC', () => {
  it('is standard HMAC-SHA256 over prev, a newline and the canonical event without its hash, for short and long keys', async () => {
    const { createHmac } = await import('node:crypto')
    const { canonicalJson } = await import('../../../src/canonical-json.js')
    for (const key of [Buffer.alloc(32, 9), Buffer.alloc(100, 1), Buffer.from('k')]) {
      const chain = createChain(key, 'r1', { seq: 4, hash: 'a'.repeat(64) })
      const ev = chain.link(buildEvent({ action: 'login', outcome: 'success', userName: 'alice' }, { time: 0, replica: 'r1' }))
      const { hash, ...link } = ev.gatehouse.chain
      const unhashed = { ...ev, gatehouse: { ...ev.gatehouse, chain: link } }
      expect(hash).toBe(createHmac('sha256', key).update(`${'a'.repeat(64)}\n${canonicalJson(unhashed)}`).digest('hex'))
      expect(expectedHash(key, ev)).toBe(hash)
    }
  })
})
