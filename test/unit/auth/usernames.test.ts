import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { canonicalUsername, usernameProblem } from '../../../src/auth/usernames.js'

describe('canonical usernames', () => {
  it('ALICE, " alice", "alice " and fullwidth ａｌｉｃｅ are one name', () => {
    for (const v of ['ALICE', ' alice', 'alice ', 'ａｌｉｃｅ', 'Ａｌｉｃｅ', '\talice\n', 'ALİCE'.replace('İ', 'I')]) {
      expect(canonicalUsername(v), JSON.stringify(v)).toBe('alice')
    }
  })

  it('canonicalization is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const once = canonicalUsername(s)
      expect(canonicalUsername(once)).toBe(once)
    }))
  })

  it('new names are limited to a safe alphabet and length', () => {
    expect(usernameProblem('alice')).toBeNull()
    expect(usernameProblem('a.b-c_d@example.org')).toBeNull()
    for (const bad of ['', 'has space', 'colon:name', '-lead', 'x'.repeat(65), 'new\nline', 'ümlaut']) {
      expect(usernameProblem(bad), JSON.stringify(bad)).not.toBeNull()
    }
  })
})
