// Security regression: `audit verify` names the first bad line for each way a log can be tampered with.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { signCheckpoint } from '../../../src/audit/checkpoint.js'
import { createChain } from '../../../src/audit/chain.js'
import { buildEvent } from '../../../src/audit/event.js'
import { serializeLine } from '../../../src/audit/serialize.js'
import { auditConfig, checkpointsReach, fileSink, lines, openLog, tempDir, verifyKeys, writeEvents } from './fixtures.js'

const t = tempDir()
const pristine = join(t.dir, 'pristine.log')
const path = join(t.dir, 'audit.log')
const cpPath = path + '.checkpoints'
let original: string[] = []
let originalCps: string[] = []

beforeAll(async () => {
  const log = await openLog(auditConfig([fileSink(pristine)], { checkpoint: { everyEvents: 10, everySeconds: 60 } }))
  for (let batch = 0; batch < 5; batch++) {
    await writeEvents(log, 5, batch * 5)
    await new Promise((resolve) => setImmediate(resolve)) // let a due checkpoint run
    if (batch % 2 === 1) await checkpointsReach(pristine, (batch + 1) / 2) // and land (it is written asynchronously)
  }
  await log.close()
  original = lines(pristine)
  originalCps = lines(pristine + '.checkpoints')
})
afterAll(() => t.cleanup())
beforeEach(() => {
  copyFileSync(pristine, path)
  copyFileSync(pristine + '.checkpoints', cpPath)
})

const write = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''))
const verify = () => verifyAuditFiles([path], verifyKeys)

describe('audit verify on a tampered log', () => {
  it('passes the untouched log, whose checkpoints cover every event', async () => {
    expect(original).toHaveLength(25)
    expect(originalCps.map((l) => JSON.parse(l).seq)).toEqual([10, 20, 25])
    const r = await verify()
    expect(r).toMatchObject({ ok: true, events: 25, checkpoints: 3 })
    expect(r.notes).toEqual([])
  })

  it('names a modified line', async () => {
    const ls = [...original]
    ls[4] = (ls[4] as string).replace('"name":"alice"', '"name":"mallory"')
    expect(ls[4]).not.toBe(original[4])
    write(path, ls)
    const r = await verify()
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ file: path, line: 5, code: 'modified' })
  })

  it('names a line edited so that a JSON reader sees two values for one key', async () => {
    const ls = [...original]
    ls[2] = (ls[2] as string).replace('{"@timestamp"', '{"user":{"name":"root"},"@timestamp"')
    write(path, ls)
    expect((await verify()).firstBad).toMatchObject({ line: 3, code: 'malformed' })
  })

  it('names a deleted line', async () => {
    write(path, original.filter((_, i) => i !== 6))
    const r = await verify()
    expect(r.firstBad).toMatchObject({ file: path, line: 7, code: 'deleted' })
    expect(r.firstBad?.reason).toContain('expected seq 7')
  })

  it('names a deleted first line', async () => {
    write(path, original.slice(1))
    expect((await verify()).firstBad).toMatchObject({ line: 1, code: 'chain_start' })
  })

  it('names an inserted copy of an earlier line', async () => {
    const ls = [...original]
    ls.splice(6, 0, original[2] as string)
    write(path, ls)
    expect((await verify()).firstBad).toMatchObject({ line: 7, code: 'inserted' })
  })

  it('names an inserted line forged without the chain key', async () => {
    const prev = JSON.parse(original[5] as string).gatehouse.chain
    const forger = createChain(Buffer.alloc(32, 7), 'r1', { seq: prev.seq, hash: prev.hash })
    const forged = serializeLine(forger.link(buildEvent({ action: 'login', outcome: 'success', userName: 'ghost' }, { time: 0, replica: 'r1' })))
    const ls = [...original]
    ls.splice(6, 0, forged)
    write(path, ls)
    expect((await verify()).firstBad).toMatchObject({ line: 7, code: 'modified' })
  })

  it('names reordered lines', async () => {
    const ls = [...original]
    ;[ls[3], ls[4]] = [ls[4] as string, ls[3] as string]
    write(path, ls)
    const r = await verify()
    expect(r.firstBad).toMatchObject({ line: 4, code: 'reordered' })
  })

  it('names a tail cut after the last checkpoint', async () => {
    write(path, original.slice(0, 22))
    const r = await verify()
    expect(r.firstBad).toMatchObject({ file: path, line: 23, code: 'truncated' })
    expect(r.firstBad?.reason).toContain('seq 25')
  })

  it('names a tail cut back past earlier checkpoints', async () => {
    write(path, original.slice(0, 12))
    expect((await verify()).firstBad).toMatchObject({ line: 13, code: 'truncated' })
  })

  it('names a checkpoint whose content was altered', async () => {
    const cps = [...originalCps]
    const c = JSON.parse(cps[2] as string)
    cps[2] = serializeLine({ ...c, seq: 22, hash: JSON.parse(original[21] as string).gatehouse.chain.hash })
    write(cpPath, cps)
    const r = await verify()
    expect(r.firstBad).toMatchObject({ file: cpPath, line: 3, code: 'forged_checkpoint' })
  })

  it('names a checkpoint signed with another key', async () => {
    const other = generateKeyPairSync('ed25519').privateKey
    const last = JSON.parse(original[24] as string).gatehouse.chain
    write(path, original.slice(0, 23))
    const cps = [...originalCps.slice(0, 2), signCheckpoint(other, { replica: 'r1', seq: 23, hash: JSON.parse(original[22] as string).gatehouse.chain.hash, time: 'x' })]
    expect(last.seq).toBe(25)
    write(cpPath, cps)
    expect((await verify()).firstBad).toMatchObject({ file: cpPath, line: 3, code: 'forged_checkpoint' })
  })

  it('fails with the wrong chain key', async () => {
    const r = await verifyAuditFiles([path], { ...verifyKeys, chainKey: Buffer.alloc(32) })
    expect(r.firstBad).toMatchObject({ line: 1, code: 'modified' })
  })

  it('names a partial last line', async () => {
    writeFileSync(path, readFileSync(pristine, 'utf8') + '{"@timestamp":')
    expect((await verify()).firstBad).toMatchObject({ line: 26, code: 'malformed' })
  })

  it('refuses a file it cannot read as a usage error, not a verdict', async () => {
    await expect(verifyAuditFiles([join(t.dir, 'missing.log')], verifyKeys)).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
  })
})

describe('audit verify on a log whose first lines were cut', () => {
  const dir = join(t.dir, 'cut')
  const log40 = join(dir, 'audit.log')
  let events: string[] = []
  let cps: string[] = []
  beforeAll(async () => {
    mkdirSync(dir)
    const log = await openLog(auditConfig([fileSink(log40)], { checkpoint: { everyEvents: 10, everySeconds: 60 } }))
    for (let batch = 0; batch < 8; batch++) {
      await writeEvents(log, 5, batch * 5)
      await new Promise((resolve) => setImmediate(resolve))
      if (batch % 2 === 1) await checkpointsReach(log40, (batch + 1) / 2)
    }
    await log.close()
    events = lines(log40)
    cps = lines(log40 + '.checkpoints')
  })

  it('refuses a start anchored only by a periodic checkpoint (chain_start), wherever the cut ends', async () => {
    expect(events).toHaveLength(40)
    expect(cps.map((l) => JSON.parse(l).seq)).toEqual([10, 20, 30, 40])
    expect(cps.every((l) => JSON.parse(l).rotation === undefined)).toBe(true)
    for (const cut of [10, 20, 30]) {
      const file = join(dir, `cut-${cut}.log`)
      write(file, events.slice(cut))
      const r = await verifyAuditFiles([file], verifyKeys, { checkpointFiles: [log40 + '.checkpoints'] })
      expect(r.ok, `cut after ${cut}`).toBe(false)
      expect(r.firstBad, `cut after ${cut}`).toMatchObject({ file, line: 1, code: 'chain_start' })
      expect(r.firstBad?.reason).toContain('not a rotation checkpoint')
    }
  })

  it('the same cut of the active log itself is chain_start too', async () => {
    const copy = join(dir, 'active', 'audit.log')
    mkdirSync(join(dir, 'active'))
    write(copy, events.slice(10))
    write(copy + '.checkpoints', cps)
    expect((await verifyAuditFiles([copy], verifyKeys)).firstBad).toMatchObject({ line: 1, code: 'chain_start' })
  })

  it('a file that starts right after a rotation checkpoint still verifies on its own', async () => {
    const rdir = join(dir, 'rotated')
    mkdirSync(rdir)
    const path = join(rdir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path, 4096)], { checkpoint: { everyEvents: 3, everySeconds: 60 } }))
    for (let batch = 0; batch < 8; batch++) {
      await writeEvents(log, 5, batch * 5)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await log.close()
    const firstSeq = (f: string) => JSON.parse(lines(f)[0] as string).gatehouse.chain.seq as number
    const files = readdirSync(rdir).filter((n) => !n.endsWith('.checkpoints')).map((n) => join(rdir, n))
      .sort((a, b) => firstSeq(a) - firstSeq(b))
    expect(files.length).toBeGreaterThanOrEqual(3)
    const rotationCps = lines(path + '.checkpoints').map((l) => JSON.parse(l)).filter((c) => c.rotation === true)
    expect(rotationCps.length).toBe(files.length - 1)
    // the oldest rotated file gone (retention): the next one starts anchored by its rotation checkpoint
    const r = await verifyAuditFiles(files.slice(1), verifyKeys)
    expect(r.firstBad).toBeUndefined()
    expect(r.ok).toBe(true)
    // but cutting the first line of that file is still caught
    const second = files[1] as string
    const rest = lines(second)
    write(second, rest.slice(1))
    expect((await verifyAuditFiles(files.slice(1), verifyKeys)).firstBad).toMatchObject({ file: second, line: 1, code: 'chain_start' })
  })
})
