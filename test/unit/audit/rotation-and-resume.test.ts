import { afterEach, describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { rotatedName } from '../../../src/audit/files.js'
import { auditConfig, fileSink, lines, openLog, tempDir, verifyKeys, writeEvents } from './fixtures.js'

let cleanup = () => {}
afterEach(() => cleanup())

const logFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('audit.log') && !n.endsWith('.checkpoints')).map((n) => join(dir, n))

describe('audit log rotation', () => {
  it('rotates by size and keeps one chain across the files, with a checkpoint at each rotation', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path, 2048)]))
    for (let i = 0; i < 6; i++) await writeEvents(log, 5, i * 5)
    await log.close()
    const files = logFiles(t.dir)
    expect(files.length).toBeGreaterThanOrEqual(3)
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(2048)
    const seqs = files.flatMap((f) => lines(f).map((l) => JSON.parse(l).gatehouse.chain.seq)).sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    // one checkpoint per rotation plus the one at shutdown
    expect(lines(path + '.checkpoints')).toHaveLength(files.length)
    // the verifier orders the files itself, so a shell glob's order does not matter
    const r = await verifyAuditFiles([...files].sort(), verifyKeys)
    expect(r.firstBad).toBeUndefined()
    expect(r).toMatchObject({ ok: true, events: 30 })
  })

  it('verifies the files left after the oldest was removed by retention, anchored by the rotation checkpoint', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path, 2048)]))
    for (let i = 0; i < 6; i++) await writeEvents(log, 5, i * 5)
    await log.close()
    const rotated = logFiles(t.dir).filter((f) => f !== path).sort()
    rmSync(rotated[0] as string)
    const r = await verifyAuditFiles(logFiles(t.dir), verifyKeys)
    expect(r.firstBad).toBeUndefined()
    expect(r.ok).toBe(true)
    expect(r.replicas[0]?.firstSeq).toBeGreaterThan(1)
  })

  it('detects a rotated file missing from the middle', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path, 2048)]))
    for (let i = 0; i < 6; i++) await writeEvents(log, 5, i * 5)
    await log.close()
    const rotated = logFiles(t.dir).filter((f) => f !== path).sort()
    expect(rotated.length).toBeGreaterThanOrEqual(2)
    const r = await verifyAuditFiles(logFiles(t.dir).filter((f) => f !== rotated[1]), verifyKeys)
    expect(r.firstBad?.code).toBe('deleted')
  })
})

describe('replica restart', () => {
  it('continues the chain from the last line of the existing file', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const first = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(first, 4)
    await first.close()
    const second = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(second, 3)
    await second.close()
    const chain = lines(path).map((l) => JSON.parse(l).gatehouse.chain)
    expect(chain.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(chain[4].prev).toBe(chain[3].hash)
    expect(await verifyAuditFiles([path], verifyKeys)).toMatchObject({ ok: true, events: 7 })
  })

  it('continues after a rotation left the active file empty', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const first = await openLog(auditConfig([fileSink(path, 1024)]))
    await writeEvents(first, 6)
    await first.close()
    // as if the process stopped right after rotating, at the time the logs' clock shows (files are
    // checked in the order of the time in their names)
    renameSync(path, rotatedName(path, Date.UTC(2026, 10, 26, 12, 0, 0)))
    const second = await openLog(auditConfig([fileSink(path, 1024)]))
    await writeEvents(second, 2)
    await second.close()
    const last = lines(path).map((l) => JSON.parse(l).gatehouse.chain.seq)
    expect(last.at(-1)).toBe(8)
    expect((await verifyAuditFiles(logFiles(t.dir), verifyKeys)).ok).toBe(true)
  })

  it('starts a line of its own after a torn last line, and verify still names the torn one', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const first = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(first, 2)
    await first.close()
    writeFileSync(path, readFileSync(path, 'utf8') + '{"@timestamp":"2026', { flag: 'w' })
    const second = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(second, 1)
    await second.close()
    const text = readFileSync(path, 'utf8').split('\n')
    expect(JSON.parse(text[3] as string).gatehouse.chain.seq).toBe(3)
    expect((await verifyAuditFiles([path], verifyKeys)).firstBad).toMatchObject({ line: 3, code: 'malformed' })
  })

  it('keeps one chain per replica, told apart in the event, even in one shared file', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const a = await openLog(auditConfig([fileSink(path)]), { replicaId: 'gw-a' })
    const b = await openLog(auditConfig([fileSink(path)]), { replicaId: 'gw-b' })
    for (let i = 0; i < 4; i++) { await writeEvents(a, 1, i); await writeEvents(b, 1, i) }
    await a.close(); await b.close()
    const chains = lines(path).map((l) => JSON.parse(l).gatehouse.chain)
    expect(chains.map((c) => `${c.replica}:${c.seq}`)).toEqual(['gw-a:1', 'gw-b:1', 'gw-a:2', 'gw-b:2', 'gw-a:3', 'gw-b:3', 'gw-a:4', 'gw-b:4'])
    const r = await verifyAuditFiles([path], verifyKeys)
    expect(r.ok).toBe(true)
    expect(r.replicas.map((x) => x.replica).sort()).toEqual(['gw-a', 'gw-b'])
    // b restarts: its chain resumes from its own last line, not a's
    const b2 = await openLog(auditConfig([fileSink(path)]), { replicaId: 'gw-b' })
    await writeEvents(b2, 1)
    await b2.close()
    expect(JSON.parse(lines(path).at(-1) as string).gatehouse.chain).toMatchObject({ replica: 'gw-b', seq: 5 })
    expect((await verifyAuditFiles([path], verifyKeys)).ok).toBe(true)
  })

  it('resumes after the last signed checkpoint when lines were lost while it was down', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const first = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(first, 5)
    await first.close()
    writeFileSync(path, lines(path).slice(0, 3).map((l) => l + '\n').join(''))
    const second = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(second, 1)
    await second.close()
    expect(JSON.parse(lines(path).at(-1) as string).gatehouse.chain.seq).toBe(6)
    expect((await verifyAuditFiles([path], verifyKeys)).firstBad).toMatchObject({ line: 4, code: 'deleted' })
  })
})
