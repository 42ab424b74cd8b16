import { describe, expect, it } from 'vitest'
import { selectEvents } from '../../../src/ops/audit-query.js'

const line = (seq: number, action: string, outcome: string, user?: string, target?: string) => JSON.stringify({
  '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), event: { action, outcome },
  ...(user !== undefined || target !== undefined ? { user: { ...(user ? { name: user } : {}), ...(target ? { target: { name: target } } : {}) } } : {}),
  gatehouse: { chain: { seq } }
})
const seqs = (events: unknown[]) => events.map((e) => (e as { gatehouse: { chain: { seq: number } } }).gatehouse.chain.seq)

const LINES = [
  line(1, 'login', 'success', 'alice'),
  line(2, 'user-created', 'success', 'admin', 'bob'),
  line(3, 'login', 'failure', 'bob'),
  'not json at all',
  '',
  line(4, 'key-created', 'success', 'admin'),
  line(5, 'login', 'failure', 'ALICE')
]

describe('selecting audit events for GET /admin/audit', () => {
  it('is newest first and skips lines that are not JSON', () => {
    expect(seqs(selectEvents(LINES, {}))).toEqual([5, 4, 3, 2, 1])
  })
  it('filters by action and outcome together', () => {
    expect(seqs(selectEvents(LINES, { action: 'login', outcome: 'failure' }))).toEqual([5, 3])
  })
  it('a user filter matches the acting or the target user, in any case', () => {
    expect(seqs(selectEvents(LINES, { user: 'bob' }))).toEqual([3, 2])
    expect(seqs(selectEvents(LINES, { user: 'Alice' }))).toEqual([5, 1])
  })
  it('stops at the limit, keeping the newest', () => {
    expect(seqs(selectEvents(LINES, { limit: 2 }))).toEqual([5, 4])
  })
})
