// Security regression: `audit verify` names the first bad line for each way a log can be tampered with.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { signCheckpoint } from '../../../src/audit/checkpoint.js'
import { createChain } from '../../../src/audit/chain.js'
import { buildEvent } from '../../../src/audit/event.js'
import { serializeLine } from '../../../src/audit/serialize.js'
import { auditConfig, fileSink, lines, openLog, tempDir, verifyKeys, writeEvents } from './fixtures.js'

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
