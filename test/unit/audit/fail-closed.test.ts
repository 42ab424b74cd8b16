// failClosed relies on writable() telling the truth: false whenever no sink can write.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { auditConfig, fileSink, lines, openLog, tempDir, writeEvents } from './fixtures.js'
import type { AuditLog } from '../../../src/audit/index.js'
import { eventually } from '../../helpers/eventually.js'

let cleanup = () => {}
afterEach(() => cleanup())

function capture () {
  const stream = new PassThrough()
  const got: string[] = []
  stream.on('data', (c: Buffer) => got.push(...c.toString().split('\n').filter(Boolean)))
  return { stream, events: () => got.map((l) => JSON.parse(l)) }
}

describe('audit writable() and failClosed', () => {
  it('is false when the file sink path cannot be created (a parent is a file)', async () => {
    const t = tempDir(); cleanup = t.cleanup
    writeFileSync(join(t.dir, 'not-a-dir'), 'x')
    const log = await openLog(auditConfig([fileSink(join(t.dir, 'not-a-dir', 'audit.log'))]))
    expect(log.writable()).toBe(false)
    log.emit({ action: 'login', outcome: 'success' })
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE', statusCode: 503 })
    expect(log.stats().sinkErrors).toBeGreaterThanOrEqual(1)
    await log.close()
  })

  it('turns false when the log directory disappears, and true again with the queued events written once it is back', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const dir = join(t.dir, 'logs')
    const path = join(dir, 'audit.log')
    const log: AuditLog = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(log, 2)
    expect(log.writable()).toBe(true)
    renameSync(dir, join(t.dir, 'moved-away'))
    await eventually(() => expect(log.writable()).toBe(false))
    log.emit({ action: 'login', outcome: 'failure', reason: 'bad_password' })
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    expect(log.stats().queueDepth).toBeGreaterThanOrEqual(1)
    mkdirSync(dir)
    await eventually(() => expect(log.writable()).toBe(true))
    await log.flush()
    await log.close()
    const events = lines(path).map((l) => JSON.parse(l))
    expect(events.map((e) => e.event.action)).toContain('login')
    expect(events.find((e) => e.event.action === 'audit-sink-error')?.gatehouse.sink).toMatchObject({ type: 'file', error: 'ENOENT' })
    // nothing was lost: the chain continues in the new file without a gap
    const seqs = events.map((e) => e.gatehouse.chain.seq)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i))
  })

  it.runIf(existsSync('/dev/full'))('is false when the disk is full (ENOSPC)', async () => {
    const log = await openLog(auditConfig([fileSink('/dev/full')]))
    log.emit({ action: 'login', outcome: 'success' })
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    expect(log.writable()).toBe(false)
    await log.close()
  })

  it('stays writable while one of two sinks works, and reports the broken one as audit-sink-error', async () => {
    const t = tempDir(); cleanup = t.cleanup
    writeFileSync(join(t.dir, 'f'), 'x')
    const out = capture()
    const log = await openLog(auditConfig([fileSink(join(t.dir, 'f', 'audit.log')), { type: 'stdout' }], { failClosed: false }), { stdout: out.stream })
    expect(log.writable()).toBe(true)
    log.emit({ action: 'logout', outcome: 'success', userName: 'alice' })
    await log.flush()
    await new Promise((resolve) => setImmediate(resolve))
    await log.close()
    const evs = out.events()
    expect(evs.find((e) => e.event.action === 'audit-sink-error')?.gatehouse.sink).toEqual({ type: 'file', error: 'ENOTDIR' })
    expect(evs.find((e) => e.event.action === 'logout')?.user.name).toBe('alice')
  })

  it('has no sink able to write when none is configured', async () => {
    const log = await openLog(auditConfig([]))
    expect(log.writable()).toBe(false)
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    await log.close()
  })

  it('refuses a bad replica id or key at start', async () => {
    await expect(openLog(auditConfig([]), { replicaId: 'bad id\n' })).rejects.toMatchObject({ code: 'GH_ERR_CONFIG_INVALID' })
    await expect(openLog(auditConfig([]), { chainKey: Buffer.alloc(8) })).rejects.toMatchObject({ code: 'GH_ERR_CONFIG_INVALID' })
  })
})
