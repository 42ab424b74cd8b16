// Security regression: the retention sweep takes each chain's last event in the files it deletes
// from one verified run of the whole trail. A copy of a later line parked in an old file (a fake
// rotated file, or appended to the oldest real one) must not become the anchor of a retention
// checkpoint that would let the chain's events before it be cut out of the files that stay.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { applyAuditRetention } from '../../../src/audit/retention.js'
import { rotatedAt } from '../../../src/audit/files.js'
import { manualClock } from '../../helpers/clock.js'
import { auditConfig, fileSink, lines, openLog, sweepKeys, tempDir, verifyKeys, writeEvents } from './fixtures.js'
import { chainOf, checkpointsOf, CLI, cliCommand, DAY, logFiles, type SharedTrail } from './shared-trail.js'

let trail: SharedTrail | null = null
afterEach(() => { trail?.cleanup(); trail = null })

const write = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => l + '\n').join(''))
const RETENTION_DAYS = 45

/** A trail where the CLI writes in every batch, ten days apart: its chain runs through every file. */
async function cliEverywhere (): Promise<SharedTrail> {
  const d = tempDir()
  const path = join(d.dir, 'audit.log')
  const clock = manualClock(Date.UTC(2026, 0, 1))
  const t = trail = { dir: d.dir, path, clock, cleanup: d.cleanup }
  const gw = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
  for (let i = 0; i < 6; i++) {
    await writeEvents(gw, 5, i * 5)
    await cliCommand(t, 2, 100 + i * 10, 1 << 30)
    clock.advance(10 * DAY)
  }
  await gw.close()
  expect((await verifyAuditFiles(logFiles(t), verifyKeys)).ok).toBe(true)
  return t
}

/**
 * The attacker's cut (no key): the CLI's newest event older than the period that sits in a file that
 * stays, and every CLI event up to it removed from the files that stay. Returns that event's line.
 */
function cutCliFromFilesThatStay (t: SharedTrail): string {
  const cutoff = t.clock.now() - RETENTION_DAYS * DAY
  const stay = logFiles(t).filter((f) => f === t.path || (rotatedAt(f) as number) >= cutoff)
  let target: { line: string, seq: number } | null = null
  for (const f of stay) {
    for (const l of lines(f)) {
      const c = chainOf(l)
      const old = Date.parse((JSON.parse(l) as { '@timestamp': string })['@timestamp']) < cutoff
      if (c.replica === CLI && old && (target === null || c.seq > target.seq)) target = { line: l, seq: c.seq }
    }
  }
  expect(target).not.toBeNull()
  const upTo = (target as { seq: number }).seq
  for (const f of stay) write(f, lines(f).filter((l) => { const c = chainOf(l); return !(c.replica === CLI && c.seq <= upTo) }))
  return (target as { line: string }).line
}

const plantings: Array<[string, (t: SharedTrail, line: string) => void]> = [
  ['in a fake rotated file older than every other', (t, line) => write(join(t.dir, 'audit.log.20250101T000000000Z'), [line])],
  ['appended to the oldest real file', (t, line) => { const f = logFiles(t)[0] as string; write(f, [...lines(f), line]) }]
]

describe('a line copied into an old file is no anchor for the sweep', () => {
  for (const [where, plant] of plantings) {
    it(`a copy of a CLI event ${where}: nothing deleted, nothing signed, and the cut is still caught`, async () => {
      const t = await cliEverywhere()
      plant(t, cutCliFromFilesThatStay(t))
      expect((await verifyAuditFiles(logFiles(t), verifyKeys)).ok).toBe(false)
      const before = logFiles(t)
      const r = await applyAuditRetention({ path: t.path, retentionDays: RETENTION_DAYS, now: t.clock.now(), keys: sweepKeys })
      expect(r).toMatchObject({ removed: [], anchors: [], kept: expect.any(String) })
      for (const f of before) expect(existsSync(f)).toBe(true)
      expect(checkpointsOf(t).filter((c) => c.retention === true)).toEqual([])
      const v = await verifyAuditFiles(logFiles(t), verifyKeys)
      expect(v.ok).toBe(false)
    })
  }

  it('the untouched trail is swept, and the CLI chain continues from its last event in the files deleted', async () => {
    const t = await cliEverywhere()
    const cutoff = t.clock.now() - RETENTION_DAYS * DAY
    const going = logFiles(t).filter((f) => f !== t.path && (rotatedAt(f) as number) < cutoff)
    const cliLast = going.flatMap((f) => lines(f).map(chainOf)).filter((c) => c.replica === CLI).at(-1)
    const r = await applyAuditRetention({ path: t.path, retentionDays: RETENTION_DAYS, now: t.clock.now(), keys: sweepKeys })
    expect(r.kept).toBeUndefined()
    expect(r.removed.length).toBe(going.length)
    expect(r.anchors).toContainEqual({ kind: 'retention', replica: CLI, seq: cliLast?.seq, hash: cliLast?.hash })
    expect((await verifyAuditFiles(logFiles(t), verifyKeys)).ok).toBe(true)
  })
})
