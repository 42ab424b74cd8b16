// Security regression: a retention checkpoint anchors a chain only when it is signed with the audit
// key, unaltered, and its hash is the prev of that chain's next event; otherwise `audit verify`
// fails and the sweep deletes nothing.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, writeFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { signCheckpoint } from '../../../src/audit/checkpoint.js'
import { applyAuditRetention } from '../../../src/audit/retention.js'
import { keys, lines, sweepKeys, verifyKeys } from './fixtures.js'
import { chainOf, checkpointLines, CLI, linksOf, logFiles, sharedTrail, type SharedTrail } from './shared-trail.js'

let trail: SharedTrail | null = null
afterEach(() => { trail?.cleanup(); trail = null })

const write = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''))
const isRetention = (l: string) => JSON.parse(l).retention === true

/** A shared trail after a sweep that deleted the files with the CLI's first two events. */
async function swept (cliLater = true): Promise<SharedTrail> {
  const t = trail = await sharedTrail({ cliLater })
  const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
  expect(r.kept).toBeUndefined()
  expect(r.anchors.some((a) => a.kind === 'retention' && a.replica === CLI)).toBe(true)
  expect((await verifyAuditFiles(logFiles(t), verifyKeys)).ok).toBe(true)
  return t
}

/** Rewrites the retention checkpoint line of the checkpoint file. */
function replaceRetention (t: SharedTrail, edit: (line: string) => string | null): void {
  const cps = checkpointLines(t)
  expect(cps.filter(isRetention)).toHaveLength(1)
  write(t.path + '.checkpoints', cps.flatMap((l) => {
    if (!isRetention(l)) return [l]
    const e = edit(l)
    return e === null ? [] : [e]
  }))
}

const verify = (t: SharedTrail) => verifyAuditFiles(logFiles(t), verifyKeys)

describe('a retention checkpoint that does not hold is no anchor', () => {
  it('one signed with another key is a forged checkpoint', async () => {
    const t = await swept()
    const other = generateKeyPairSync('ed25519').privateKey
    replaceRetention(t, (l) => {
      const c = JSON.parse(l)
      return signCheckpoint(other, { replica: c.replica, seq: c.seq, hash: c.hash, time: c.time, retention: true })
    })
    const r = await verify(t)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ file: t.path + '.checkpoints', code: 'forged_checkpoint' })
  })

  it('an edited one (its seq, its hash, or the signature dropped) is a forged checkpoint', async () => {
    const t = await swept()
    const original = checkpointLines(t).find(isRetention) as string
    const edits: Array<(c: Record<string, unknown>) => void> = [
      (c) => { c.seq = (c.seq as number) + 1 },
      (c) => { c.hash = 'f'.repeat(64) },
      (c) => { delete c.sig }
    ]
    for (const edit of edits) {
      replaceRetention(t, () => { const c = JSON.parse(original); edit(c); return JSON.stringify(c) })
      expect((await verify(t)).firstBad, String(edit)).toMatchObject({ code: 'forged_checkpoint' })
      replaceRetention(t, () => original)
      expect((await verify(t)).ok).toBe(true)
    }
  })

  it('without it, the CLI chain that continues has nothing to start from (chain_start)', async () => {
    const t = await swept()
    replaceRetention(t, () => null)
    const r = await verify(t)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
    expect(r.firstBad?.reason).toContain(`replica ${CLI} starts at seq 3`)
  })

  it('without it, a CLI chain with no events left is a cut tail (truncated)', async () => {
    const t = await swept(false)
    replaceRetention(t, () => null)
    const r = await verify(t)
    expect(r.firstBad).toMatchObject({ code: 'truncated' })
    expect(r.firstBad?.reason).toContain(`no events of replica ${CLI}`)
  })

  it('one signed with the right key whose hash is not the prev of the chain\'s next event does not anchor it (chain_start)', async () => {
    const t = await swept()
    // the CLI's own checkpoint for the same seq goes too, or the two would contradict each other
    const c = JSON.parse(checkpointLines(t).find(isRetention) as string)
    write(t.path + '.checkpoints', [
      ...checkpointLines(t).filter((l) => JSON.parse(l).replica !== CLI || JSON.parse(l).seq !== c.seq),
      signCheckpoint(keys.checkpointKey, { replica: CLI, seq: c.seq, hash: 'e'.repeat(64), time: c.time, retention: true })
    ])
    const r = await verify(t)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
    expect(r.firstBad?.reason).toContain(`no signed checkpoint vouches for seq ${c.seq}`)
  })

  it('the CLI chain\'s first remaining events cut out of the shared file are caught behind a genuine one', async () => {
    const t = await swept()
    const file = logFiles(t).find((f) => linksOf(f, CLI).length > 0) as string
    const firstCli = linksOf(file, CLI)[0]
    write(file, lines(file).filter((l) => { const c = chainOf(l); return !(c.replica === CLI && c.seq === firstCli?.seq) }))
    const r = await verify(t)
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
  })

  it('a periodic checkpoint made a retention one by adding the flag is a forged checkpoint', async () => {
    // no sweep: the oldest file (with the CLI's first events) deleted by hand, and the CLI's own
    // checkpoint of its last event there turned into a retention checkpoint
    const t = trail = await sharedTrail({ cliLater: true })
    const oldest = logFiles(t)[0] as string
    const cliLast = linksOf(oldest, CLI).at(-1) as { seq: number }
    writeFileSync(oldest, '')
    const cps = checkpointLines(t)
    const i = cps.findIndex((l) => { const c = JSON.parse(l); return c.replica === CLI && c.seq === cliLast.seq })
    expect(i).toBeGreaterThanOrEqual(0)
    expect((await verify(t)).firstBad).toMatchObject({ code: 'chain_start' })
    const c = JSON.parse(cps[i] as string)
    c.retention = true
    write(t.path + '.checkpoints', cps.map((l, j) => j === i ? JSON.stringify(c) : l))
    expect((await verify(t)).firstBad).toMatchObject({ code: 'forged_checkpoint' })
  })

  it('cutting a chain\'s events up to another chain\'s rotation point in a shared file is caught (no retention at all)', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    // the CLI rotated the shared file after its third event: its rotation checkpoint vouches for seq 3
    const cliRotation = checkpointLines(t).map((l) => JSON.parse(l)).find((c) => c.replica === CLI && c.rotation === true)
    expect(cliRotation).toBeDefined()
    for (const f of logFiles(t)) {
      write(f, lines(f).filter((l) => { const c = chainOf(l); return !(c.replica === CLI && c.seq <= cliRotation.seq) }))
    }
    const r = await verify(t)
    expect(r.firstBad).toMatchObject({ code: 'chain_start' })
    expect(r.firstBad?.reason).toContain('not the first one given')
  })
})

describe('the sweep deletes nothing when what would remain does not verify', () => {
  it('a forged retention checkpoint already in the checkpoint file', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const before = logFiles(t)
    const other = generateKeyPairSync('ed25519').privateKey
    writeFileSync(t.path + '.checkpoints', signCheckpoint(other, { replica: CLI, seq: 2, hash: 'a'.repeat(64), time: 'x', retention: true }) + '\n',
      { flag: 'a' })
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r).toMatchObject({ removed: [], anchors: [], kept: expect.stringMatching(/^forged_checkpoint/) })
    for (const f of before) expect(existsSync(f)).toBe(true)
  })

  it('an edited line in a file that would remain: nothing signed, so undoing the edit leaves no anchor to cut the CLI\'s events to', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const before = logFiles(t)
    const active = t.path
    const original = lines(active)
    write(active, original.map((l) => l.replace('"outcome":"success"', '"outcome":"failure"')))
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r).toMatchObject({ removed: [], anchors: [], kept: expect.stringMatching(/^modified/) })
    for (const f of before) expect(existsSync(f)).toBe(true)
    expect(checkpointLines(t).filter(isRetention)).toEqual([])
    // the edit undone and the CLI's first events cut out of the oldest file, still present: caught
    write(active, original)
    const oldest = before[0] as string
    expect(linksOf(oldest, CLI).length).toBeGreaterThan(0)
    write(oldest, lines(oldest).filter((l) => chainOf(l).replica !== CLI))
    const v = await verify(t)
    expect(v.ok).toBe(false)
    expect(v.firstBad).toMatchObject({ code: 'chain_start' })
  })

  it('an event younger than the period moved into a file that would go', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const before = logFiles(t)
    // the CLI's later events, written within the period, appended to the oldest file: the chain
    // would still link, and the sweep would delete them with it
    const oldest = before[0] as string
    const moved: string[] = []
    for (const f of before.slice(1)) {
      const keep = lines(f).filter((l) => { const c = chainOf(l); if (c.replica === CLI) { moved.push(l); return false } return true })
      write(f, keep)
    }
    expect(moved.length).toBeGreaterThan(0)
    write(oldest, [...lines(oldest), ...moved])
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r).toMatchObject({ removed: [], kept: expect.stringMatching(/inside the retention period/) })
    for (const f of before) expect(existsSync(f)).toBe(true)
  })
})
