// A bad configuration is reported in one pass: schema and cross-key problems together, a likely
// meaning for a misspelt key or value, and a YAML syntax error with its line, column and text.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig, loadConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors.js'

const problemsOf = (f: () => unknown): string[] => {
  try { f() } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
  return []
}
const build = (raw: unknown) => problemsOf(() => buildConfig(raw, '/etc/gatehouse'))
const load = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'gh-cfg-')), 'g.yaml')
  writeFileSync(file, text)
  return problemsOf(() => loadConfig(file))
}

describe('every problem in one pass', () => {
  it('a cross-key problem is reported together with the schema problems', () => {
    expect(build({ listen: { port: -1 }, masking: { entities: ['email', 'creditcard'] } })).toEqual([
      'listen.port: must be >= 0',
      'masking.entities.1: unknown entity "creditcard" (did you mean credit_card?) (built in: ssn, email, phone, credit_card, iban, secret, ipv4, or a masking.custom name)'
    ])
  })
  it('a section of the wrong type does not hide the other sections\' cross-key problems', () => {
    expect(build({ masking: 'yes', auth: { mfa: { requiredForRoles: ['auditor'] } } })).toEqual([
      'masking: must be object',
      'auth.mfa.requiredForRoles.0: unknown role "auditor"'
    ])
  })
})

describe('did you mean', () => {
  it('a misspelt key names the key it is probably', () => {
    expect(build({ auth: { lockuot: { maxFailedAttempts: 3 } } })).toEqual(['auth.lockuot: unknown key (did you mean lockout?)'])
    expect(build({ listen: { Port: 8080 } })).toEqual(['listen.Port: unknown key (did you mean port?)'])
  })
  it('a key like none of the known ones gets no guess; nor does another version number', () => {
    expect(build({ foo: 1 })).toEqual(['foo: unknown key'])
    expect(build({ tls: { minVersion: 'TLSv1.1' } })).toEqual(['tls.minVersion: must be one of "TLSv1.2", "TLSv1.3"'])
  })
  it('a misspelt value names the value it is probably', () => {
    expect(build({ log: { level: 'infp' } })).toEqual(['log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (did you mean "info"?)'])
    expect(build({ tls: { minVersion: 'tlsv1.3' } })).toEqual(['tls.minVersion: must be one of "TLSv1.2", "TLSv1.3" (did you mean "TLSv1.3"?)'])
  })
})

describe('YAML syntax errors', () => {
  it('name the line and column and show the line', () => {
    expect(load('listen:\n  port: 8443\nauth: lockout: 3\n')).toEqual([
      '(yaml) line 3, column 7: Nested mappings are not allowed in compact mappings\n    3 | auth: lockout: 3\n      |       ^'
    ])
  })
  it('a duplicate key is a syntax error at the second one', () => {
    expect(load('listen:\n  port: 1\n  port: 2\n')).toEqual([
      '(yaml) line 3, column 3: Map keys must be unique\n    3 |   port: 2\n      |   ^'
    ])
  })
})
