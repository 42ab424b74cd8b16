import { afterEach, describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRetentionSweep } from '../../../src/ops/retention-sweep.js'
import { verifyAuditFiles, type AuditInput } from '../../../src/audit/index.js'
import { manualClock } from '../../helpers/clock.js'
import { eventually } from '../../helpers/eventually.js'
import { auditConfig, fileSink, openLog, sweepKeys, tempDir, verifyKeys, writeEvents } from '../audit/fixtures.js'
import { CLI, GW, logFiles, sharedTrail, type SharedTrail } from '../audit/shared-trail.js'

let cleanup = () => {}
afterEach(() => cleanup())
const DAY = 86_400_000

async function setup (retentionDays: number | null) {
  const t = tempDir(); cleanup = t.cleanup
  const path = join(t.dir, 'audit.log')
  const clock = manualClock(Date.UTC(2026, 0, 1))
  const log = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
  for (let i = 0; i < 6; i++) { await writeEvents(log, 5, i * 5); clock.advance(10 * DAY) }
  await log.close()
  const events: AuditInput[] = []
  const purges: number[] = []
  const sweep = createRetentionSweep({
    config: { audit: auditConfig([fileSink(path, 2048)], { retentionDays }), store: { url: 'sqlite::memory:', purgeAfterDays: 30 } },
    store: { purgeEnded: async (before) => { purges.push(before); return { sessions: 2, apiKeys: 1 } } },
    emit: (e) => events.push(e),
    clock,
    keys: sweepKeys
  })
  const rotated = () => readdirSync(t.dir).filter((n) => /^audit\.log\.\d/.test(n))
  return { sweep, clock, events, purges, rotated }
}

/** A sweep over a shared trail's file sink, 25 days of retention, recording the events it emits. */
function sweepOfTrail (t: SharedTrail): { sweep: ReturnType<typeof createRetentionSweep>, events: AuditInput[] } {
  const events: AuditInput[] = []
  const sweep = createRetentionSweep({
    config: { audit: auditConfig([fileSink(t.path, 2048)], { retentionDays: 25 }), store: { url: 'sqlite::memory:', purgeAfterDays: 30 } },
    store: { purgeEnded: async () => ({ sessions: 0, apiKeys: 0 }) },
    emit: (e) => events.push(e),
    clock: t.clock,
    keys: sweepKeys
  })
  return { sweep, events }
}

describe('retention sweep', () => {
  it('runs once a day on the clock: deletes expired audit files, records audit-retention with the anchor, purges the store', async () => {
    const s = await setup(25)
    const before = s.rotated()
    s.clock.advance(DAY - 1)
    expect(s.purges).toEqual([])
    s.clock.advance(1)
    await eventually(() => expect(s.purges).toHaveLength(1))
    expect(s.purges[0]).toBe(s.clock.now() - 30 * DAY)
    const ev = s.events.find((e) => e.action === 'audit-retention')
    expect(ev).toMatchObject({ outcome: 'success', retention: { anchor: { replica: 'r1' } } })
    expect(ev?.retention?.removed.length).toBeGreaterThan(0)
    expect(s.rotated()).toEqual(before.filter((n) => !(ev?.retention?.removed ?? []).includes(n)))
    await s.sweep.close()
  })

  it('records every anchor when the CLI chain shares the file: the rotation checkpoint and a retention checkpoint for the CLI', async () => {
    const t = await sharedTrail({ cliLater: true })
    cleanup = t.cleanup
    const { sweep, events } = sweepOfTrail(t)
    const report = await sweep.run()
    await sweep.close()
    expect(report.audit[0]?.kept).toBeUndefined()
    expect(events).toHaveLength(1)
    const retention = events[0]?.retention
    expect(events[0]).toMatchObject({ action: 'audit-retention', outcome: 'success' })
    expect(retention?.removed).toEqual(report.audit[0]?.removed)
    expect(retention?.anchors?.map((a) => `${a.kind}:${a.replica}`)).toEqual([`rotation:${GW}`, `retention:${CLI}`])
    expect(retention?.anchors?.[0]).toMatchObject({ ...retention?.anchor })
    expect((await verifyAuditFiles(logFiles(t), verifyKeys)).ok).toBe(true)
  })

  it('records a failure naming no anchor when the remaining files would not verify', async () => {
    const t = await sharedTrail({ cliLater: true })
    cleanup = t.cleanup
    writeFileSync(t.path, readFileSync(t.path, 'utf8').replace('"outcome":"success"', '"outcome":"failure"'))
    const { sweep, events } = sweepOfTrail(t)
    await sweep.run()
    await sweep.close()
    expect(events).toEqual([{ action: 'audit-retention', outcome: 'failure', reason: 'unverifiable', retention: { removed: [], anchor: null, anchors: [] } }])
  })

  it('with audit.retentionDays null it keeps every audit file and records nothing, but still purges the store', async () => {
    const s = await setup(null)
    const before = s.rotated()
    const report = await s.sweep.run()
    expect(report).toEqual({ audit: [], purged: { sessions: 2, apiKeys: 1 } })
    expect(s.events).toEqual([])
    expect(s.rotated()).toEqual(before)
    await s.sweep.close()
  })

  it('after close the timer no longer fires', async () => {
    const s = await setup(25)
    await s.sweep.close()
    s.clock.advance(3 * DAY)
    expect(s.clock.pendingTimers()).toBe(0)
    expect(s.purges).toEqual([])
  })
})
