import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { parseCheckpoint } from '../../../src/audit/checkpoint.js'
import { auditConfig, checkpointsReach, fileSink, keys, lines, openLog, tempDir, verifyKeys, writeEvents } from './fixtures.js'
import { manualClock } from '../../helpers/clock.js'

let cleanup = () => {}
afterEach(() => cleanup())
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('signed checkpoints', () => {
  it('are written every N events, each signed over replica, seq, hash and time', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)], { checkpoint: { everyEvents: 3, everySeconds: 3600 } }))
    for (let i = 0; i < 9; i++) {
      await writeEvents(log, 1, i)
      await tick()
      // written off the event loop: let each land before the next events, so it covers exactly N
      if ((i + 1) % 3 === 0) await checkpointsReach(path, (i + 1) / 3)
    }
    const cps = lines(path + '.checkpoints').map((l) => parseCheckpoint(l, keys.checkpointPublicKey))
    expect(cps.map((c) => c.ok && c.checkpoint.seq)).toEqual([3, 6, 9])
    const events = lines(path).map((l) => JSON.parse(l))
    for (const c of cps) {
      if (!c.ok) throw new Error(c.reason)
      expect(c.checkpoint.hash).toBe(events[c.checkpoint.seq - 1].gatehouse.chain.hash)
      expect(c.checkpoint).toMatchObject({ type: 'checkpoint', replica: 'r1', time: '2026-11-26T12:00:00.000Z' })
    }
    expect(statSync(path + '.checkpoints').mode & 0o777).toBe(0o600)
    await log.close()
  })

  it('are written every T seconds of the injected clock when events arrived since the last one', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const clock = manualClock(Date.UTC(2026, 10, 26, 12, 0, 0))
    const log = await openLog(auditConfig([fileSink(path)], { checkpoint: { everyEvents: 1000, everySeconds: 30 } }), { clock })
    expect(clock.pendingTimers()).toBe(1)
    await writeEvents(log, 2)
    expect(existsSync(path + '.checkpoints')).toBe(false)
    clock.advance(30_000)
    await checkpointsReach(path, 1)
    expect(lines(path + '.checkpoints').map((l) => JSON.parse(l))).toMatchObject([{ seq: 2, time: '2026-11-26T12:00:30.000Z' }])
    await writeEvents(log, 1, 2)
    clock.advance(30_000)
    await checkpointsReach(path, 2)
    expect(lines(path + '.checkpoints').map((l) => JSON.parse(l))).toMatchObject([{ seq: 2 }, { seq: 3, time: '2026-11-26T12:01:00.000Z' }])
    clock.advance(30_000) // nothing new since: nothing to vouch for
    await log.close() // waits for a checkpoint run in flight
    expect(lines(path + '.checkpoints')).toHaveLength(2)
    expect(clock.pendingTimers()).toBe(0) // close cancels the timer
  })

  it('are written at shutdown, so a clean stop leaves no unvouched tail', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)]))
    await writeEvents(log, 4)
    const before = await verifyAuditFiles([path], verifyKeys)
    expect(before.ok).toBe(true)
    expect(before.notes).toEqual(['replica r1: seq 1..4 are not yet covered by a signed checkpoint'])
    await log.close()
    const after = await verifyAuditFiles([path], verifyKeys)
    expect(after).toMatchObject({ ok: true, checkpoints: 1, notes: [] })
  })
})

describe('stdout sink', () => {
  it('writes one JSON event per line', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (c: Buffer) => { text += c.toString() })
    const log = await openLog(auditConfig([{ type: 'stdout' }]), { stdout: out })
    log.emit({ action: 'config-loaded', outcome: 'success', config: { hash: 'f'.repeat(64) } })
    log.emit({ action: 'login', outcome: 'failure', userName: 'a\nb' })
    await log.flush()
    await log.close()
    const ls = text.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    expect(ls.map((e) => e.event.action)).toEqual(['config-loaded', 'login'])
    expect(ls[1].user.name).toBe('a\nb')
    expect(text.split('\n')).toHaveLength(3)
  })
})
