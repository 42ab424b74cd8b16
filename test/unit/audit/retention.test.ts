import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { applyAuditRetention } from '../../../src/audit/retention.js'
import { rotatedAt } from '../../../src/audit/files.js'
import { manualClock, type ManualClock } from '../../helpers/clock.js'
import { auditConfig, fileSink, openLog, sweepKeys, tempDir, verifyKeys, writeEvents } from './fixtures.js'

let cleanup = () => {}
afterEach(() => cleanup())

const DAY = 86_400_000
const logFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('audit.log') && !n.endsWith('.checkpoints'))
  .map((n) => join(dir, n)).sort()

/** Six batches of events ten days apart, rotating at 2 KiB: rotated files spread over fifty days. */
async function trail (): Promise<{ dir: string, path: string, clock: ManualClock }> {
  const t = tempDir(); cleanup = t.cleanup
  const path = join(t.dir, 'audit.log')
  const clock = manualClock(Date.UTC(2026, 0, 1))
  const log = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
  for (let i = 0; i < 6; i++) {
    await writeEvents(log, 5, i * 5)
    clock.advance(10 * DAY)
  }
  await log.close()
  return { dir: t.dir, path, clock }
}

describe('audit retention', () => {
  it('reads the rotation time from a rotated file name', () => {
    expect(rotatedAt('/l/audit.log.20260115T123456789Z')).toBe(Date.UTC(2026, 0, 15, 12, 34, 56, 789))
    expect(rotatedAt('/l/audit.log.20260115T123456789Z.2')).toBe(Date.UTC(2026, 0, 15, 12, 34, 56, 789))
    expect(rotatedAt('/l/audit.log')).toBeNull()
  })

  it('deletes rotated files older than the period, oldest first, and the rest still verifies from the rotation checkpoint', async () => {
    const { dir, path, clock } = await trail()
    const before = logFiles(dir)
    const old = before.filter((f) => f !== path && (rotatedAt(f) as number) < clock.now() - 25 * DAY)
    expect(old.length).toBeGreaterThan(0)
    const r = await applyAuditRetention({ path, retentionDays: 25, now: clock.now(), keys: sweepKeys })
    expect(r.kept).toBeUndefined()
    expect(r.removed).toEqual(old.map((f) => f.slice(dir.length + 1)))
    for (const f of old) expect(existsSync(f)).toBe(false)
    const left = logFiles(dir)
    expect(left).toEqual(before.filter((f) => !old.includes(f)))
    const v = await verifyAuditFiles(left, verifyKeys)
    expect(v.firstBad).toBeUndefined()
    expect(v.ok).toBe(true)
    // the anchor is the signed rotation checkpoint right before the first event left
    expect(r.anchor).toMatchObject({ replica: 'r1', seq: (v.replicas[0]?.firstSeq as number) - 1 })
    expect(r.anchor?.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('deletes nothing while no rotated file is older than the period', async () => {
    const { dir, path, clock } = await trail()
    const before = logFiles(dir)
    expect(await applyAuditRetention({ path, retentionDays: 365, now: clock.now(), keys: sweepKeys })).toEqual({ removed: [], anchor: null, anchors: [] })
    expect(logFiles(dir)).toEqual(before)
  })

  it('keeps every file when the remaining ones would not verify (an edited line)', async () => {
    const { dir, path, clock } = await trail()
    const before = logFiles(dir)
    const newest = before.filter((f) => f !== path).at(-1) as string
    writeFileSync(newest, readFileSync(newest, 'utf8').replace('"outcome":"success"', '"outcome":"failure"'))
    const r = await applyAuditRetention({ path, retentionDays: 25, now: clock.now(), keys: sweepKeys })
    expect(r.removed).toEqual([])
    expect(r.kept).toMatch(/modified/)
    expect(logFiles(dir)).toEqual(before)
  })

  it('keeps every file when no signed rotation checkpoint anchors what would remain', async () => {
    const { dir, path, clock } = await trail()
    const before = logFiles(dir)
    rmSync(path + '.checkpoints')
    const r = await applyAuditRetention({ path, retentionDays: 25, now: clock.now(), keys: sweepKeys })
    expect(r).toMatchObject({ removed: [], anchor: null, kept: expect.stringMatching(/no signed rotation checkpoint/) })
    expect(logFiles(dir)).toEqual(before)
  })
})
