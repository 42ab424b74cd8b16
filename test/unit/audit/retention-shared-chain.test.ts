// Retention over a file sink shared by the gateway's chain and the CLI's: the CLI's earlier events
// in the files that go are anchored by a signed retention checkpoint, so the files are deleted and
// what remains verifies.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { parseCheckpoint } from '../../../src/audit/checkpoint.js'
import { inRotationOrder } from '../../../src/audit/files.js'
import { applyAuditRetention } from '../../../src/audit/retention.js'
import { rotatedAt } from '../../../src/audit/files.js'
import { manualClock } from '../../helpers/clock.js'
import { auditConfig, fileSink, keys, lines, openLog, sweepKeys, tempDir, verifyKeys, writeEvents } from './fixtures.js'
import { checkpointLines, checkpointsOf, CLI, cliCommand, DAY, GW, linksOf, logFiles, read, sharedTrail, type SharedTrail } from './shared-trail.js'

let trail: SharedTrail | null = null
afterEach(() => { trail?.cleanup(); trail = null })

/** The rotated files a sweep with `days` would delete now. */
const expiring = (t: SharedTrail, days: number) =>
  logFiles(t).filter((f) => f !== t.path && (rotatedAt(f) as number) < t.clock.now() - days * DAY)

describe('audit retention with the CLI chain in the same file', () => {
  it('deletes the expired files holding the CLI\'s earlier events, anchoring that chain with a signed retention checkpoint', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const old = expiring(t, 25)
    const cliInOld = old.flatMap((f) => linksOf(f, CLI))
    expect(cliInOld.map((c) => c.seq)).toEqual([1, 2])
    const before = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(before.firstBad).toBeUndefined()

    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r.kept).toBeUndefined()
    expect(r.removed).toEqual(old.map((f) => basename(f)))
    for (const f of old) expect(existsSync(f)).toBe(false)

    // the retention checkpoint: signed with the audit key, for the CLI's last event in the files removed
    const last = cliInOld.at(-1) as { seq: number, hash: string }
    const written = checkpointLines(t).filter((l) => JSON.parse(l).retention === true)
    expect(written).toHaveLength(1)
    expect(read(t.path + '.checkpoints').endsWith('\n')).toBe(true)
    const parsed = parseCheckpoint(written[0] as string, keys.checkpointPublicKey)
    expect(parsed).toMatchObject({ ok: true, checkpoint: { replica: CLI, seq: last.seq, hash: last.hash, retention: true } })
    expect(r.anchors).toEqual([
      { kind: 'rotation', ...r.anchor },
      { kind: 'retention', replica: CLI, seq: last.seq, hash: last.hash }
    ])
    expect(r.anchor).toMatchObject({ replica: GW })

    // `audit verify` on what remains: the CLI's chain continues from the retention checkpoint
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
    expect(v.replicas.find((x) => x.replica === CLI)).toMatchObject({ firstSeq: last.seq + 1 })
    expect(v.notes.join('\n')).toMatch(/r1-cli: starts at seq 3, anchored by the signed retention checkpoint/)
  })

  it('a CLI chain with no events left verifies from its retention checkpoint', async () => {
    const t = trail = await sharedTrail({ cliLater: false })
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r.kept).toBeUndefined()
    expect(r.removed.length).toBeGreaterThan(0)
    expect(r.anchors.map((a) => `${a.kind}:${a.replica}:${a.seq}`)).toEqual([`rotation:${GW}:${r.anchor?.seq}`, `retention:${CLI}:2`])
    expect(logFiles(t).flatMap((f) => linksOf(f, CLI))).toEqual([])
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.notes.join('\n')).toMatch(/r1-cli: no events left; retention deleted them up to seq 2/)
  })

  it('the CLI\'s next command continues its chain from the retention checkpoint once its earlier files are gone', async () => {
    const t = trail = await sharedTrail({ cliLater: false })
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    const anchor = r.anchors.find((a) => a.replica === CLI)
    expect(anchor).toMatchObject({ kind: 'retention', seq: 2 })
    await cliCommand(t, 1, 300)
    expect(linksOf(t.path, CLI)).toEqual([expect.objectContaining({ seq: 3, prev: anchor?.hash })])
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
  })

  it('a retention checkpoint appended after the CLI\'s own later checkpoints does not make its next command resume from it (no fork)', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const r = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(r.anchors.find((a) => a.replica === CLI)).toMatchObject({ kind: 'retention', seq: 2 })
    // the newest checkpoint line of the CLI's chain is now the retention one, behind its own (seq 4)
    const cliCps = checkpointsOf(t).filter((c) => c.replica === CLI)
    expect(cliCps.at(-1)).toMatchObject({ seq: 2, retention: true })
    expect(Math.max(...cliCps.map((c) => c.seq))).toBe(4)
    await cliCommand(t, 1, 300)
    expect(linksOf(t.path, CLI).map((c) => c.seq)).toEqual([5])
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
  })

  it('a second sweep writes no second retention checkpoint for the same point, and a later one anchors from the next', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const first = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(first.removed.length).toBeGreaterThan(0)
    const again = await applyAuditRetention({ path: t.path, retentionDays: 25, now: t.clock.now(), keys: sweepKeys })
    expect(again).toEqual({ removed: [], anchor: null, anchors: [] })
    expect(checkpointsOf(t).filter((c) => c.retention === true)).toHaveLength(1)
    // ten days on, the files with the CLI's later events go too: its chain then has no events left
    t.clock.advance(10 * DAY)
    const later = await applyAuditRetention({ path: t.path, retentionDays: 15, now: t.clock.now(), keys: sweepKeys })
    expect(later.kept).toBeUndefined()
    expect(later.anchors.filter((a) => a.kind === 'retention').map((a) => a.replica)).toEqual([CLI])
    expect(checkpointsOf(t).filter((c) => c.retention === true).map((c) => c.seq)).toEqual([2, 4])
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
  })

  it('when the CLI rotated the shared file, the gateway\'s chain is the one a retention checkpoint anchors', async () => {
    const t0 = tempDir()
    const path = `${t0.dir}/audit.log`
    const clock = manualClock(Date.UTC(2026, 0, 1))
    const t = trail = { dir: t0.dir, path, clock, cleanup: t0.cleanup }
    // the gateway writes two events and stops; the CLI's second event does not fit, so the CLI
    // rotates (its rotation checkpoint vouches for its first) and starts the next file
    const gw = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
    await writeEvents(gw, 2, 0)
    await gw.close()
    await cliCommand(t, 2, 100)
    clock.advance(10 * DAY)
    const gw2 = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
    for (let i = 0; i < 2; i++) { await writeEvents(gw2, 5, i * 5); clock.advance(10 * DAY) }
    await gw2.close()
    const files = logFiles(t)
    expect(linksOf(files[0] as string, CLI).map((c) => c.seq)).toEqual([1])
    expect(lines(files[1] as string).map((l) => JSON.parse(l).gatehouse.chain.replica).slice(0, 2)).toEqual([CLI, GW])
    expect(checkpointsOf(t).filter((c) => c.rotation === true)[0]).toMatchObject({ replica: CLI, seq: 1 })

    const r = await applyAuditRetention({ path, retentionDays: 25, now: clock.now(), keys: sweepKeys })
    expect(r.kept).toBeUndefined()
    expect(r.removed).toEqual([basename(files[0] as string)])
    expect(r.anchors.map((a) => `${a.kind}:${a.replica}:${a.seq}`)).toEqual([`rotation:${CLI}:1`, `retention:${GW}:2`])
    const v = await verifyAuditFiles(logFiles(t), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
  })
})

describe('audit verify follows the rotation order of the file names', () => {
  it('orders rotated files by their time, then their number as a number, and the active log last', () => {
    const given = ['/l/audit.log', '/l/audit.log.20260102T000000000Z', '/l/audit.log.20260101T000000000Z.10',
      '/l/audit.log.20260101T000000000Z.2', '/l/audit.log.20260101T000000000Z']
    expect(inRotationOrder(given)).toEqual(['/l/audit.log.20260101T000000000Z', '/l/audit.log.20260101T000000000Z.2',
      '/l/audit.log.20260101T000000000Z.10', '/l/audit.log.20260102T000000000Z', '/l/audit.log'])
  })

  it('verifies a shared trail given in lexical order, where a file begins with the CLI\'s low sequence number', async () => {
    const t = trail = await sharedTrail({ cliLater: true })
    const files = logFiles(t)
    // a file that begins with a CLI event: its first seq is lower than the files before it
    expect(files.some((f) => JSON.parse(lines(f)[0] as string).gatehouse.chain.replica === CLI)).toBe(true)
    const v = await verifyAuditFiles([...files].sort(), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
  })

  it('numbers past 9 on one rotation time are checked in number order', async () => {
    const t0 = tempDir()
    const path = `${t0.dir}/audit.log`
    trail = { dir: t0.dir, path, clock: manualClock(), cleanup: t0.cleanup }
    // a clock that never moves: every rotation has the same time, so the names differ only by number
    const log = await openLog(auditConfig([fileSink(path, 1024)]))
    await writeEvents(log, 30)
    await log.close()
    const files = logFiles(trail)
    expect(files.some((f) => f.endsWith('Z.10'))).toBe(true)
    writeFileSync(path + '.unused', '') // not a log of the trail
    const v = await verifyAuditFiles([...files].sort(), verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v).toMatchObject({ ok: true, events: 30 })
  })
})
