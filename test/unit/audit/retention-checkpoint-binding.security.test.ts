// Security regression: a retention checkpoint is bound to the deletion it vouches for. It is signed
// only right before the files go (never by a sweep that kept them), and it names the first file that
// remained, so that it anchors nothing while an earlier file is given: a leftover one must not let
// the chain's events be cut out of files still present.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { signCheckpoint } from '../../../src/audit/checkpoint.js'
import { applyAuditRetention } from '../../../src/audit/retention.js'
import { rotatedAt } from '../../../src/audit/files.js'
import { keys, lines, sweepKeys, verifyKeys } from './fixtures.js'
import { chainOf, checkpointLines, checkpointsOf, CLI, DAY, linksOf, logFiles, sharedTrail, type SharedTrail } from './shared-trail.js'

let trail: SharedTrail | null = null
afterEach(() => { trail?.cleanup(); trail = null })

const write = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''))
const RETENTION_DAYS = 25
const verify = (t: SharedTrail) => verifyAuditFiles(logFiles(t), verifyKeys)
const sweep = (t: SharedTrail, remove?: (f: string) => void) =>
  applyAuditRetention({ path: t.path, retentionDays: RETENTION_DAYS, now: t.clock.now(), keys: sweepKeys, ...(remove ? { remove } : {}) })
const firstRemaining = (t: SharedTrail) =>
  logFiles(t).find((f) => f === t.path || (rotatedAt(f) as number) >= t.clock.now() - RETENTION_DAYS * DAY) as string

/** The attacker's cut (no key): the CLI's events in the oldest file, still present, removed. */
function cutCliFromOldest (t: SharedTrail): void {
  const oldest = logFiles(t)[0] as string
  expect(linksOf(oldest, CLI).length).toBeGreaterThan(0)
  write(oldest, lines(oldest).filter((l) => chainOf(l).replica !== CLI))
}

describe('a retention checkpoint is bound to its deletion', () => {
  it('names the first file that remained', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const first = basename(firstRemaining(t))
    const r = await sweep(t)
    expect(r.kept).toBeUndefined()
    const retention = checkpointsOf(t).filter((c) => c.retention === true)
    expect(retention).toHaveLength(1)
    expect(retention[0]).toMatchObject({ replica: CLI, remaining: first })
    expect((await verify(t)).ok).toBe(true)
  })

  for (const named of [true, false]) {
    it(`a chain cut out whole from files still present is not excused by a retention checkpoint ${named ? 'naming a later file' : 'naming no file'} (truncated)`, async () => {
      const t = trail = await sharedTrail({ cliLater: false })
      // a genuine checkpoint left on disk by a sweep whose deletion then failed: the files are all here
      const going = logFiles(t).filter((f) => f !== t.path && (rotatedAt(f) as number) < t.clock.now() - RETENTION_DAYS * DAY)
      const cliLast = going.flatMap((f) => linksOf(f, CLI)).at(-1) as { seq: number, hash: string }
      writeFileSync(t.path + '.checkpoints', signCheckpoint(keys.checkpointKey, {
        replica: CLI, seq: cliLast.seq, hash: cliLast.hash, time: new Date(t.clock.now()).toISOString(), retention: true,
        ...(named ? { remaining: basename(firstRemaining(t)) } : {})
      }) + '\n', { flag: 'a' })
      // the attacker (no key) removes every CLI line from every file
      for (const f of logFiles(t)) write(f, lines(f).filter((l) => chainOf(l).replica !== CLI))
      const r = await verify(t)
      expect(r.ok).toBe(false)
      expect(r.firstBad).toMatchObject({ code: 'truncated' })
      expect(r.firstBad?.reason).toContain(named ? 'is given' : 'names no remaining file')
    })
  }

  it('one that names no remaining file anchors nothing, even signed (chain_start)', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const going = logFiles(t).filter((f) => f !== t.path && (rotatedAt(f) as number) < t.clock.now() - RETENTION_DAYS * DAY)
    const cliLast = going.flatMap((f) => linksOf(f, CLI)).at(-1) as { seq: number, hash: string }
    writeFileSync(t.path + '.checkpoints', signCheckpoint(keys.checkpointKey, {
      replica: CLI, seq: cliLast.seq, hash: cliLast.hash, time: new Date(t.clock.now()).toISOString(), retention: true
    }) + '\n', { flag: 'a' })
    cutCliFromOldest(t)
    const r = await verify(t)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
    expect(r.firstBad?.reason).toContain('names no remaining file')
  })

  it('one found with an earlier file given anchors nothing: the CLI\'s events cut out of that file are caught (chain_start)', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    // a genuine retention checkpoint for the CLI's last event in the files a sweep would delete, as
    // if that sweep had stopped before deleting them
    const going = logFiles(t).filter((f) => f !== t.path && (rotatedAt(f) as number) < t.clock.now() - RETENTION_DAYS * DAY)
    const cliLast = going.flatMap((f) => linksOf(f, CLI)).at(-1) as { seq: number, hash: string }
    writeFileSync(t.path + '.checkpoints', signCheckpoint(keys.checkpointKey, {
      replica: CLI, seq: cliLast.seq, hash: cliLast.hash, time: new Date(t.clock.now()).toISOString(), retention: true,
      remaining: basename(firstRemaining(t))
    }) + '\n', { flag: 'a' })
    expect((await verify(t)).ok).toBe(true)
    cutCliFromOldest(t)
    const r = await verify(t)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
    expect(r.firstBad?.reason).toContain(`deleted the files before ${basename(firstRemaining(t))}`)
  })

  it('a sweep that keeps the files, though the whole trail verifies, signs nothing: the same cut is caught', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    // the rotation checkpoint before the first file that would remain, signed by a clock ahead of
    // the file names (and written before checkpoints named the file): the whole trail verifies, but
    // the remaining files cannot start from it
    const first = chainOf(lines(firstRemaining(t))[0] as string)
    write(t.path + '.checkpoints', checkpointLines(t).map((l) => {
      const c = JSON.parse(l)
      if (c.rotation !== true || c.replica !== first.replica || c.seq !== first.seq - 1) return l
      return signCheckpoint(keys.checkpointKey, { replica: c.replica, seq: c.seq, hash: c.hash, time: '2027-01-01T00:00:00.000Z', rotation: true })
    }))
    expect((await verify(t)).ok).toBe(true)
    const before = logFiles(t)
    const r = await sweep(t)
    expect(r).toMatchObject({ removed: [], anchors: [], kept: expect.stringMatching(/^chain_start/), reason: 'unverifiable' })
    for (const f of before) expect(existsSync(f)).toBe(true)
    expect(checkpointsOf(t).filter((c) => c.retention === true)).toEqual([])
    cutCliFromOldest(t)
    const v = await verify(t)
    expect(v.ok).toBe(false)
    expect(v.firstBad).toMatchObject({ code: 'chain_start' })
  })

  it('is on disk before the first file is deleted, and named when the deletion then fails', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    let seen: number | null = null
    const r = await sweep(t, () => {
      seen = checkpointsOf(t).filter((c) => c.retention === true).length
      throw Object.assign(new Error('denied'), { code: 'EACCES' })
    })
    expect(seen).toBe(1)
    expect(r).toMatchObject({ removed: [], anchor: null, reason: 'io_error', kept: expect.stringContaining('EACCES') })
    expect(r.anchors).toEqual([expect.objectContaining({ kind: 'retention', replica: CLI })])
  })
})
