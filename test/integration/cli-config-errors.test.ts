// Bad configuration: every problem at once, each with its key path, exit 2, nothing served.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBin } from '../helpers/process.js'

// each case runs the binary on its own files: the cases overlap
describe.concurrent('gatehouse with a bad config', () => {
  it('serve exits 2 listing each problem with its key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-bad-'))
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'listen:\n  port: -1\nauth:\n  lockout:\n    maxFailedAttempts: 0\nfoo: 1\n')
    const r = await runBin(['serve', '--config', file])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('listen.port: must be >= 0')
    expect(r.stderr).toContain('auth.lockout.maxFailedAttempts: must be >= 1')
    expect(r.stderr).toContain('foo: unknown key')
    expect(r.stdout).toBe('')
  })
  it('schema and cross-key problems come in one report, with guesses for typos (exact lines)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-bad-'))
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'auth:\n  lockuot:\n    maxFailedAttempts: 3\nlog:\n  level: infp\nmasking:\n  entities: [email, creditcard]\n')
    const r = await runBin(['serve', '--config', file])
    expect(r.status).toBe(2)
    expect(r.stderr.split('\n')).toEqual([
      `gatehouse: invalid configuration (${file}):`,
      '  auth.lockuot: unknown key (did you mean lockout?)',
      '  log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (did you mean "info"?)',
      '  masking.entities.1: unknown entity "creditcard" (did you mean credit_card?) ' +
        '(built in: ssn, email, phone, credit_card, iban, secret, ipv4, or a masking.custom name)',
      ''
    ])
  })
  it('a YAML syntax error shows its line, column and the line itself (exact lines)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-bad-'))
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'listen:\n  port: 8443\nauth: lockout: 3\n')
    const r = await runBin(['serve', '--config', file])
    expect(r.status).toBe(2)
    expect(r.stderr.split('\n')).toEqual([
      `gatehouse: invalid configuration (${file}):`,
      '  (yaml) line 3, column 7: Nested mappings are not allowed in compact mappings',
      '    3 | auth: lockout: 3',
      '      |       ^',
      ''
    ])
  })
  it('GATEHOUSE_CONFIG names the file when --config is absent; a missing file is exit 2', async () => {
    const r = await runBin(['user', 'list'], { env: { ...process.env, GATEHOUSE_CONFIG: '/nonexistent/g.yaml' } })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('/nonexistent/g.yaml')
  })
  it('no command is usage, exit 2; --help is exit 0', async () => {
    const [none, h] = await Promise.all([runBin([]), runBin(['--help'])])
    expect(none.status).toBe(2)
    expect(h.status).toBe(0)
    expect(h.stdout).toContain('usage: gatehouse')
  })
})
