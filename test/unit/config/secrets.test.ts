import { describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSecretFile } from '../../../src/config/secrets.js'

describe('createSecretFile', () => {
  it('creates the file once, readable by its owner only, and leaves nothing else behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-secret-'))
    const file = join(dir, 'a.key')
    createSecretFile(file, () => 'first\n')
    createSecretFile(file, () => 'second\n')
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['a.key'])
  })

  it('a file another replica created while this one made its secret is kept, and this one uses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-secret-'))
    const file = join(dir, 'a.key')
    createSecretFile(file, () => {
      writeFileSync(file, 'the other replica\n', { mode: 0o600 })
      return 'this one\n'
    })
    expect(readFileSync(file, 'utf8')).toBe('the other replica\n')
    expect(readdirSync(dir)).toEqual(['a.key'])
  })
})
