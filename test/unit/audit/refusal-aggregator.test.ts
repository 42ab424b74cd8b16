// Identical refusals of unauthenticated clients are written once and then counted: the counts are
// exact (every refusal is accounted for, once), the first is written at once, the rest when the
// window ends or at shutdown, and nothing that names a user or succeeded is ever held back.
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../helpers/clock.js'
import { createRefusalAggregator } from '../../../src/audit/refusal-aggregator.js'
import type { AuditInput } from '../../../src/audit/index.js'
import { buildEvent } from '../../../src/audit/event.js'

const denied = (ip: string, path = '/api/chat', status = 401, reason = 'unknown_key'): AuditInput => ({
  action: 'access-denied',
  outcome: 'failure',
  sourceIp: ip,
  requestId: `req-${Math.random()}`,
  request: { method: 'POST', path, status, durationNs: 1000, decision: 'deny', reason }
})
const rejected = (ip: string): AuditInput => ({ action: 'token-rejected', outcome: 'failure', sourceIp: ip, reason: 'unknown_key' })

function harness (windowMs = 60_000, maxKeys?: number) {
  const clock = manualClock(Date.UTC(2026, 11, 7, 4, 0, 0))
  const written: AuditInput[] = []
  const agg = createRefusalAggregator({ emit: (e) => { written.push(e); return written.length }, clock, windowMs, maxKeys })
  return { clock, written, agg }
}

const total = (events: AuditInput[]) => events.reduce((n, e) => n + (e.repeat?.count ?? 1), 0)

describe('refusal aggregation', () => {
  it('counts a flood of probes of unrouted paths from one source as one kind, whatever the paths', () => {
    const { clock, written, agg } = harness()
    for (let i = 0; i < 500; i++) { clock.advance(1); agg.submit(denied('203.0.113.7', `/probe/${i}`, 404, 'status:404')) }
    for (let i = 0; i < 100; i++) { clock.advance(1); agg.submit(denied('203.0.113.7', `/probe/${i}`, 405, 'status:405')) }
    expect(written.length).toBe(2)
    agg.close()
    expect(written.length).toBe(4)
    expect(total(written)).toBe(600)
    expect(written.filter((e) => e.request?.status === 404).map((e) => e.repeat?.count ?? 1)).toEqual([1, 499])
  })

  it('writes the first refusal at once, counts the identical ones, and writes one event with the count when the window ends', () => {
    const { clock, written, agg } = harness()
    expect(agg.submit(denied('203.0.113.9'))).toBe(1)
    expect(written.length).toBe(1)
    for (let i = 0; i < 999; i++) { clock.advance(10); expect(agg.submit(denied('203.0.113.9'))).toBe(0) }
    expect(written.length).toBe(1)
    agg.sweep()
    expect(written.length).toBe(1) // the window is still open
    clock.advance(60_000)
    agg.sweep()
    expect(written.length).toBe(2)
    expect(written[1]?.repeat).toEqual({ count: 999, start: Date.UTC(2026, 11, 7, 4, 0, 0) + 10, end: Date.UTC(2026, 11, 7, 4, 0, 0) + 9990 })
    expect(total(written)).toBe(1000)
    agg.close()
  })

  it('keeps kinds apart (source, action, reason, path, status) and the counts exact for any interleaving', () => {
    const { clock, written, agg } = harness(5_000)
    const made = new Map<string, number>()
    const kinds = [
      () => denied('203.0.113.9'), () => denied('203.0.113.10'), () => denied('203.0.113.9', '/api/generate'),
      () => denied('203.0.113.9', '/api/chat', 429, 'unauthenticated_throttled'), () => rejected('203.0.113.9')
    ]
    let seed = 7
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const k = seed % kinds.length
      made.set(String(k), (made.get(String(k)) ?? 0) + 1)
      agg.submit((kinds[k] as () => AuditInput)())
      clock.advance(seed % 7)
      if (i % 500 === 0) agg.sweep()
    }
    agg.close() // shutdown writes what is still counted
    for (let k = 0; k < kinds.length; k++) {
      const sample = (kinds[k] as () => AuditInput)()
      const mine = written.filter((e) => e.sourceIp === sample.sourceIp && e.action === sample.action && e.request?.path === sample.request?.path && e.request?.status === sample.request?.status)
      expect(total(mine)).toBe(made.get(String(k)))
    }
    expect(written.length).toBeLessThan(100) // instead of 5000
  })

  it('never holds back an event that names a user, or a success', () => {
    const { written, agg } = harness()
    for (let i = 0; i < 3; i++) agg.submit({ ...denied('203.0.113.9'), userName: 'alice' })
    for (let i = 0; i < 3; i++) agg.submit({ action: 'login', outcome: 'success', sourceIp: '203.0.113.9', userName: 'bob' })
    expect(written.length).toBe(6)
    agg.close()
  })

  it('counts requests shed while overloaded (503, overloaded) and writes every other 503 as it comes', () => {
    const { written, agg } = harness()
    for (let i = 0; i < 200; i++) agg.submit(denied('203.0.113.9', '/api/chat', 503, 'overloaded'))
    for (let i = 0; i < 3; i++) agg.submit(denied('203.0.113.9', '/api/chat', 503, 'audit-unavailable'))
    expect(written.length).toBe(4)
    agg.close()
    expect(written.filter((e) => e.request?.reason === 'overloaded').map((e) => e.repeat?.count ?? 1)).toEqual([1, 199])
    expect(total(written)).toBe(203)
  })

  it('counts shed requests as one kind per source whatever their method and path', () => {
    const { written, agg } = harness()
    for (let i = 0; i < 100; i++) {
      const path = `/v1/models/model-${i}`
      agg.submit({ ...denied('203.0.113.9', path), request: { method: i % 2 ? 'GET' : 'POST', path, status: 503, durationNs: 1, decision: 'deny', reason: 'overloaded' } })
    }
    agg.submit(denied('203.0.113.10', '/api/chat', 503, 'overloaded'))
    expect(written.length).toBe(2)
    agg.close()
    expect(written.length).toBe(3)
    expect(total(written)).toBe(101)
  })

  it('writes the oldest window early when too many kinds are open, so memory stays bounded', () => {
    const { written, agg } = harness(60_000, 2)
    agg.submit(denied('203.0.113.1')); agg.submit(denied('203.0.113.1'))
    agg.submit(denied('203.0.113.2'))
    agg.submit(denied('203.0.113.3')) // evicts .1's window, with its count
    expect(written.map((e) => [e.sourceIp, e.repeat?.count ?? 1])).toEqual([['203.0.113.1', 1], ['203.0.113.2', 1], ['203.0.113.3', 1], ['203.0.113.1', 1]])
    agg.close()
    expect(total(written)).toBe(4)
  })

  it('an aggregated event carries gatehouse.repeat_count and event.start/end', () => {
    const ev = buildEvent({ ...denied('203.0.113.9'), repeat: { count: 41, start: Date.UTC(2026, 11, 7, 4, 0, 1), end: Date.UTC(2026, 11, 7, 4, 0, 59) } }, { time: Date.UTC(2026, 11, 7, 4, 1, 0), replica: 'r1' })
    expect(ev.gatehouse.repeat_count).toBe(41)
    expect(ev.event.start).toBe('2026-12-07T04:00:01.000Z')
    expect(ev.event.end).toBe('2026-12-07T04:00:59.000Z')
    // the canonical form the chain hashes is plain JSON.stringify: keys in sorted order
    expect(Object.keys(ev.event)).toEqual([...Object.keys(ev.event)].sort())
    expect(Object.keys(ev.gatehouse)).toEqual([...Object.keys(ev.gatehouse)].sort())
  })
})
