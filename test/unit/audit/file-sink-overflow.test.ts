// A file sink that cannot write holds up to maxPending lines; beyond that the oldest are dropped,
// counted, and reported in an audit-sink-error event once the file takes lines again. The lines it
// kept are written in order, and verify names the gap the dropped ones left.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { auditConfig, fileSink, fullDisk, openLog, tempDir, verifyKeys } from './fixtures.js'

let cleanup: () => unknown = () => {}
afterEach(async () => { await cleanup(); cleanup = () => {} })

interface Line { event: { action: string }, user?: { name: string }, gatehouse: { chain: { seq: number }, sink?: { error?: string, dropped?: number } } }

describe('file sink beyond maxPending', () => {
  it('drops the oldest held lines, counts and reports them, and writes the newest in order', async () => {
    const t = tempDir()
    const path = join(t.dir, 'audit.log')
    const { disk, write } = fullDisk()
    const log = await openLog(auditConfig([fileSink(path)]), { tuning: { fileWrite: write, maxPending: 50 } })
    cleanup = async () => { await log.close(); t.cleanup() }
    log.emit({ action: 'login', outcome: 'success', userName: 'before' })
    await log.flush()
    disk.failing = true
    const seqs: number[] = []
    for (let i = 0; i < 500; i++) seqs.push(log.emit({ action: 'login', outcome: 'success', userName: `held-${i}` }))
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    const st = log.stats()
    expect(st.queueDepth).toBe(50)
    expect(st.dropped).toBe(st.events - 1 - 50) // all emitted since the disk failed (its own error event too), less the 50 kept
    disk.failing = false
    await log.flush()
    await log.close()
    const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line)
    const names = events.filter((e) => e.event.action === 'login').map((e) => e.user?.name)
    expect(names[0]).toBe('before')
    expect(names.at(-1)).toBe('held-499')
    // the kept lines are the newest, consecutive and in order
    const kept = events.slice(1).map((e) => e.gatehouse.chain.seq)
    expect(kept.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, k) => (kept[0] as number) + k))
    const report = events.find((e) => e.gatehouse.sink?.error === 'dropped_while_unwritable')
    expect(report?.gatehouse.sink?.dropped).toBe(st.dropped)
    const result = await verifyAuditFiles([path], verifyKeys)
    expect(result.ok).toBe(false)
    expect(result.firstBad).toBeDefined()
  })
})
