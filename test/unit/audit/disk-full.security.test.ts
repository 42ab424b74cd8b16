// Security: a full disk must not corrupt the audit log. A write cut short by ENOSPC leaves part of a
// line in the file; unless the sink cuts the file back to its last complete line, the retry appends
// the whole line after the fragment and `audit verify` fails once space is back. Tested on a real
// tmpfs (as root; always in CI) and with an injected write that fails the same way.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { appendWhole, appendWholeSync } from '../../../src/audit/files.js'
import { join } from 'node:path'
import { verifyAuditFiles, type AuditLog } from '../../../src/audit/index.js'
import { auditConfig, fileSink, openLog, sampleInput, tempDir, verifyKeys } from './fixtures.js'
import { canMountTmpfs, mountSmallFs, type SmallFs } from '../../helpers/small-fs.js'

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Every byte of the file belongs to a complete JSON line. */
function assertWholeLines (path: string): number {
  const text = readFileSync(path, 'utf8')
  expect(text.length === 0 || text.endsWith('\n')).toBe(true)
  const lines = text.split('\n').filter((l) => l.length > 0)
  for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow()
  return lines.length
}

/** Emits events until a flush fails (the disk is full); returns how many were emitted. */
async function emitUntilRefused (log: AuditLog, from: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    log.emit(sampleInput(from + i))
    try { await log.flush() } catch { return i + 1 }
  }
  throw new Error('the audit log never ran out of space')
}

async function recoverAndVerify (log: AuditLog, path: string, emitted: number): Promise<void> {
  await until(() => log.writable())
  for (let i = 0; i < 3; i++) log.emit(sampleInput(900 + i))
  await log.flush()
  await log.close()
  const n = assertWholeLines(path)
  const result = await verifyAuditFiles([path], verifyKeys)
  expect(result.firstBad).toBeUndefined()
  expect(result.ok).toBe(true)
  // every event emitted is in the file (plus the sink's own error report)
  const actions = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { event: { action: string } }).event.action)
  expect(actions.filter((a) => a !== 'audit-sink-error').length).toBe(emitted + 3)
  expect(n).toBe(actions.length)
}

describe.skipIf(!canMountTmpfs)('file sink on a full tmpfs', () => {
  let fs: SmallFs
  beforeAll(() => { fs = mountSmallFs(256) })
  afterAll(() => { fs?.unmount() })

  it('leaves only whole lines while the disk is full, and the log verifies once space is back', async () => {
    const path = join(fs.dir, 'logs', 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)]))
    for (let i = 0; i < 3; i++) log.emit(sampleInput(i))
    await log.flush()
    fs.fill()
    const refusedAfter = await emitUntilRefused(log, 3)
    expect(log.writable()).toBe(false)
    // a few more while full: held in memory, nothing half-written
    for (let i = 0; i < 5; i++) log.emit(sampleInput(500 + i))
    await new Promise((resolve) => setTimeout(resolve, 250)) // let the sink's retry timer run against the full disk
    assertWholeLines(path)
    fs.free()
    await recoverAndVerify(log, path, 3 + refusedAfter + 5)
  })

  it('a checkpoint line that does not fit is cut back off, never left as a fragment (sync and async)', async () => {
    mkdirSync(join(fs.dir, 'append'), { recursive: true })
    const a = join(fs.dir, 'append', 'a.checkpoints')
    const b = join(fs.dir, 'append', 'b.checkpoints')
    // both end 10 bytes before a page boundary: a longer line needs a page the full disk does not have
    writeFileSync(a, 'x'.repeat(4085) + '\n')
    writeFileSync(b, 'x'.repeat(4085) + '\n')
    fs.fill()
    const line = JSON.stringify({ type: 'checkpoint', pad: 'y'.repeat(200) }) + '\n'
    const fd = openSync(a, 'a')
    try { expect(() => appendWholeSync(fd, line)).toThrow(expect.objectContaining({ code: 'ENOSPC' })) } finally { closeSync(fd) }
    const fh = await openFile(b, 'a')
    try { await expect(appendWhole(fh, line)).rejects.toMatchObject({ code: 'ENOSPC' }) } finally { await fh.close() }
    expect(statSync(a).size).toBe(4086)
    expect(statSync(b).size).toBe(4086)
    fs.free()
  })

  it('the checkpoint file keeps only whole lines too when a checkpoint meets the full disk', async () => {
    const path = join(fs.dir, 'cp', 'audit.log')
    // a checkpoint after every event, so that checkpoints are being written as the disk fills
    const log = await openLog(auditConfig([fileSink(path)], { checkpoint: { everyEvents: 1, everySeconds: 60 } }))
    for (let i = 0; i < 3; i++) log.emit(sampleInput(i))
    await log.flush()
    fs.fill()
    let emitted = 3
    for (let i = 0; i < 400 && log.writable(); i++) {
      log.emit(sampleInput(emitted++))
      await log.flush().catch(() => {})
      await new Promise((resolve) => setImmediate(resolve))
    }
    await new Promise((resolve) => setTimeout(resolve, 100)) // checkpoints in flight meet the full disk
    assertWholeLines(path)
    assertWholeLines(path + '.checkpoints')
    fs.free()
    await recoverAndVerify(log, path, emitted)
  })
})

describe('file sink with a write that fails part-way (injected)', () => {
  let cleanup = () => {}
  afterEach(() => cleanup())

  it('cuts a partial write back to the last whole line before anything else is written', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    let full = false
    // like a file system that runs out mid-write: the first call writes part, the next fails
    let partialDone = false
    const write = (fd: number, buf: Buffer, off: number, len: number): number => {
      if (!full) return writeSync(fd, buf, off, len)
      if (!partialDone && len > 10) { partialDone = true; return writeSync(fd, buf, off, Math.floor(len / 2)) }
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
    }
    const log = await openLog(auditConfig([fileSink(path)]), { tuning: { fileWrite: write } })
    for (let i = 0; i < 3; i++) log.emit(sampleInput(i))
    await log.flush()
    full = true
    log.emit(sampleInput(3))
    await expect(log.flush()).rejects.toMatchObject({ code: 'GH_ERR_AUDIT_UNAVAILABLE' })
    expect(partialDone).toBe(true)
    assertWholeLines(path)
    log.emit(sampleInput(4))
    await new Promise((resolve) => setTimeout(resolve, 250))
    assertWholeLines(path)
    full = false
    await recoverAndVerify(log, path, 5)
  })
})
