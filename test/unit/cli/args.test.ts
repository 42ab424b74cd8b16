// "did you mean": the distance counts a swap of neighbours as one edit, and a guess is offered only
// when it is close for the word's length or the only flag the word begins.
import { describe, expect, it } from 'vitest'
import { closest, editDistance } from '../../../src/cli/args.js'

describe('editDistance', () => {
  it('counts inserts, deletes, replacements and swaps of neighbours as one edit each', () => {
    expect(editDistance('role', 'role')).toBe(0)
    expect(editDistance('rol', 'role')).toBe(1)
    expect(editDistance('rxle', 'role')).toBe(1)
    expect(editDistance('verison', 'version')).toBe(1)
    expect(editDistance('', 'json')).toBe(4)
    expect(editDistance('abc', 'xyz')).toBe(3)
  })
})

describe('closest', () => {
  const flags = ['role', 'name', 'expires-in', 'config', 'json', 'help']
  it('guesses a close misspelling', () => {
    expect(closest('rol', flags)).toBe('role')
    expect(closest('expires_in', flags)).toBe('expires-in')
    expect(closest('CONFIG', flags)).toBe('config')
  })
  it('guesses the one flag a word begins, and nothing when several begin it or none is close', () => {
    expect(closest('exp', flags)).toBe('expires-in')
    expect(closest('xyzzy', flags)).toBeNull()
    expect(closest('n', ['name', 'nope'])).toBeNull()
  })
})
