// A lost PostgreSQL server is told apart from a statement's own error: only the first becomes 503.
import { describe, expect, it } from 'vitest'
import { isUnreachable } from '../../../src/store/postgres.js'

describe('isUnreachable', () => {
  it('a refused or reset socket, a connection exception or a server shutting down means unreachable', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '08006', '08001', '57P01', '57P03']) {
      expect(isUnreachable(Object.assign(new Error('x'), { code })), code).toBe(true)
    }
    expect(isUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true)
  })

  it('a statement error (unique violation, syntax, missing table) is not', () => {
    for (const code of ['23505', '42601', '42P01', '40001']) {
      expect(isUnreachable(Object.assign(new Error('Connection terminated'), { code })), code).toBe(false)
    }
    expect(isUnreachable(new Error('something else'))).toBe(false)
    expect(isUnreachable(null)).toBe(false)
  })
})
