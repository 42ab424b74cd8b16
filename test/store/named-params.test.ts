import { describe, expect, it } from 'vitest'
import { bindNamed } from '../../src/store/named-params.js'

describe('bindNamed (shared SQL → PostgreSQL placeholders)', () => {
  it('numbers each name once, in first-use order, and reuses the number', () => {
    expect(bindNamed('SELECT :b, :a, :b', { a: 1, b: 2 })).toEqual({ text: 'SELECT $1, $2, $1', values: [2, 1] })
  })

  it('leaves casts and colons inside words or string literals alone', () => {
    expect(bindNamed("SELECT x::text, 'gatehouse:slot:' || :key", { key: 'k' })).toEqual({ text: "SELECT x::text, 'gatehouse:slot:' || $1", values: ['k'] })
  })

  it('a missing parameter throws instead of sending NULL', () => {
    expect(() => bindNamed('SELECT :nope', {})).toThrow(/nope/)
  })
})
