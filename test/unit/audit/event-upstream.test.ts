// A model-request names the Ollama host that served it and how many hosts were tried; the chain
// link keeps the event in canonical key order with these fields, and nothing but host names gets in.
import { describe, expect, it } from 'vitest'
import { buildEvent } from '../../../src/audit/event.js'
import { createChain } from '../../../src/audit/chain.js'
import { canonicalJson } from '../../../src/canonical-json.js'
import type { AuditInput } from '../../../src/audit/types.js'

const ctx = { time: Date.UTC(2026, 11, 7), replica: 'r1', hostName: 'gw' }
const input = (upstream?: string | null, attempts?: number): AuditInput => ({
  action: 'model-request',
  outcome: 'success',
  requestId: 'req-1',
  request: { method: 'POST', path: '/api/chat', status: 200, durationNs: 5, decision: 'allow', masked: {}, upstream, attempts }
})

describe('gatehouse.upstream and gatehouse.attempts', () => {
  it('carry the host and the attempts of a request that reached a host', () => {
    const ev = buildEvent(input('gpu-b', 2), ctx)
    expect(ev.gatehouse).toMatchObject({ upstream: 'gpu-b', attempts: 2 })
    expect(buildEvent(input('gpu-a,gpu-b', 1), ctx).gatehouse.upstream).toBe('gpu-a,gpu-b')
  })
  it('are absent when no host was chosen (a denial, a 404 before any host)', () => {
    const ev = buildEvent(input(null, 0), ctx)
    expect(ev.gatehouse).not.toHaveProperty('upstream')
    expect(ev.gatehouse).not.toHaveProperty('attempts')
  })
  it('anything that is not a list of host names is recorded as "other"', () => {
    expect(buildEvent(input('Bearer ghk_secret', 1), ctx).gatehouse.upstream).toBe('other')
  })
  it('a linked event with them is still in canonical order (one JSON.stringify is its canonical form)', () => {
    const linked = createChain(Buffer.alloc(32, 1), 'r1', null).link(buildEvent(input('gpu-a', 2), ctx))
    expect(Object.keys(linked.gatehouse).slice(0, 2)).toEqual(['attempts', 'chain'])
    // what the chain hashes: the event with its link but without the link's own hash
    const { hash: _hash, ...link } = linked.gatehouse.chain
    const hashed = { ...linked, gatehouse: { ...linked.gatehouse, chain: link } }
    expect(JSON.stringify(hashed)).toBe(canonicalJson(hashed))
  })
})
