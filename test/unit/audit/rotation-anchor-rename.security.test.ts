// Security regression: a rotation checkpoint anchors a chain's start only in the file that follows the
// one it set aside. File names are not signed: renaming the file that starts with the chain's next
// event (to a name without a rotation time, or to an older time so that it sorts first) must not let
// `audit verify` pass once the chain's earlier events are cut out of the files that stay.
import { afterEach, describe, expect, it } from 'vitest'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { signCheckpoint } from '../../../src/audit/checkpoint.js'
import { inRotationOrder } from '../../../src/audit/files.js'
import { keys, lines, verifyKeys } from './fixtures.js'
import { chainOf, checkpointLines, CLI, logFiles, sharedTrail, type SharedTrail } from './shared-trail.js'

let trail: SharedTrail | null = null
afterEach(() => { trail?.cleanup(); trail = null })

const write = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''))
const givenIn = (t: SharedTrail, names: string[]) => inRotationOrder(names.map((n) => join(t.dir, n)))
const trailNames = (t: SharedTrail) => logFiles(t).map((f) => basename(f))

/** The index in `files` of the rotated file that starts with the CLI's first event after its own rotation. */
function afterCliRotation (t: SharedTrail, files: string[]): number {
  const i = files.findIndex((f) => f !== t.path && lines(f).length > 0 &&
    chainOf(lines(f)[0] as string).replica === CLI && chainOf(lines(f)[0] as string).seq > 1)
  expect(i).toBeGreaterThan(0)
  return i
}

/**
 * A shared trail where the CLI's chain was cut before the file that starts with its event after its
 * own rotation: that file now holds only CLI events (its other lines moved to the end of the file
 * before it, so the gateway chain still links), and the CLI's earlier events are gone from every file.
 */
async function cutBeforeCliRotation (): Promise<{ t: SharedTrail, next: string }> {
  const t = trail = await sharedTrail({ cliLater: true })
  const files = logFiles(t)
  const i = afterCliRotation(t, files)
  const next = files[i] as string
  const before = files[i - 1] as string
  const from = chainOf(lines(next)[0] as string).seq
  write(before, [...lines(before), ...lines(next).filter((l) => chainOf(l).replica !== CLI)])
  write(next, lines(next).filter((l) => chainOf(l).replica === CLI))
  for (const f of files) {
    if (f !== next) write(f, lines(f).filter((l) => { const c = chainOf(l); return !(c.replica === CLI && c.seq < from) }))
  }
  // as named, the file set aside at the CLI's rotation is given before it: refused
  const r = await verifyAuditFiles(logFiles(t), verifyKeys)
  expect(r.firstBad).toMatchObject({ code: 'chain_start' })
  return { t, next }
}

/** Rewrites every rotation checkpoint as one written before they named the file set aside. */
function withoutFileNames (t: SharedTrail): void {
  write(t.path + '.checkpoints', checkpointLines(t).map((l) => {
    const c = JSON.parse(l)
    if (c.rotation !== true) return l
    return signCheckpoint(keys.checkpointKey, { replica: c.replica, seq: c.seq, hash: c.hash, time: c.time, rotation: true })
  }))
}

const renames: Array<[string, string]> = [
  ['to a name without a rotation time', 'audit.log.old'],
  ['to an older rotation time, so that it sorts first', 'audit.log.20200101T000000000Z']
]

describe('a rotation checkpoint anchors only the file right after the one it set aside', () => {
  it('names the file it set aside', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const names = trailNames(t)
    const rotations = checkpointLines(t).map((l) => JSON.parse(l)).filter((c) => c.rotation === true)
    expect(rotations.length).toBeGreaterThan(0)
    for (const c of rotations) expect(names).toContain(c.file)
    // the CLI's rotation: the file it names ends with the CLI's event it vouches for, and the next file starts with the one after
    const cli = rotations.find((c) => c.replica === CLI)
    const cliLinks = (name: string) => lines(join(t.dir, name)).map(chainOf).filter((l) => l.replica === CLI)
    expect(cliLinks(cli.file).at(-1)).toMatchObject({ seq: cli.seq, hash: cli.hash })
    expect(cliLinks(names[names.indexOf(cli.file) + 1] as string)[0]).toMatchObject({ seq: cli.seq + 1, prev: cli.hash })
  })

  for (const [how, to] of renames) {
    it(`the file after the CLI's rotation renamed ${how} does not start the CLI chain (chain_start)`, async () => {
      const { t, next } = await cutBeforeCliRotation()
      renameSync(next, join(t.dir, to))
      const r = await verifyAuditFiles(givenIn(t, trailNames(t)), verifyKeys)
      expect(r.ok).toBe(false)
      expect(r.firstBad).toMatchObject({ code: 'chain_start', file: join(t.dir, to), line: 1 })
    })

    it(`with checkpoints that name no file, the file renamed ${how} does not start the CLI chain (chain_start)`, async () => {
      const { t, next } = await cutBeforeCliRotation()
      withoutFileNames(t)
      renameSync(next, join(t.dir, to))
      const r = await verifyAuditFiles(givenIn(t, trailNames(t)), verifyKeys)
      expect(r.ok).toBe(false)
      expect(r.firstBad).toMatchObject({ code: 'chain_start', file: join(t.dir, to), line: 1 })
    })
  }

  it('the trail rewritten so that the file after the CLI\'s rotation comes first, every other chain moved behind it, is caught', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const files = logFiles(t)
    const i = afterCliRotation(t, files)
    const next = files[i] as string
    // the gateway chain from seq 1 on goes behind the CLI's lines of that file; every file before it goes
    const upToNext = files.slice(0, i + 1).flatMap((f) => lines(f))
    write(next, [...lines(next).filter((l) => chainOf(l).replica === CLI), ...upToNext.filter((l) => chainOf(l).replica !== CLI)])
    for (const f of files.slice(0, i)) rmSync(f)
    const r = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ code: 'checkpoint_mismatch', file: next })
  })
})
