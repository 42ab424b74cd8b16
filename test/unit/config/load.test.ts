// Configuration: defaults fill every key, unknown keys are errors, and every problem is reported
// at once with its key path.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig, loadConfig, configPathFrom } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors.js'

const problemsOf = (raw: unknown): string[] => {
  try { buildConfig(raw, '/etc/gatehouse') } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
  return []
}

describe('configuration', () => {
  it('an empty document yields the documented defaults', () => {
    const c = buildConfig({}, '/etc/gatehouse')
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8443 })
    expect(c.tls.minVersion).toBe('TLSv1.2')
    expect(c.auth.lockout).toEqual({ maxFailedAttempts: 3, lockoutSeconds: 900, perIpMaxFailures: 20, perIpWindowSeconds: 900 })
    expect(Object.keys(c.rbac.roles)).toEqual(['admin', 'model-loader', 'user', 'monitor'])
    expect(c.masking.entities).toEqual(['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret'])
    expect(c.audit.failClosed).toBe(true)
  })
  it('relative paths resolve against the config file folder', () => {
    const c = buildConfig({}, '/etc/gatehouse/config')
    expect(c.tls.cert).toBe('/etc/gatehouse/certs/server.crt')
    expect(c.store.url).toBe('sqlite:/etc/gatehouse/data/gatehouse.db')
    expect(c.audit.sinks[0]).toMatchObject({ type: 'file', path: '/etc/gatehouse/logs/audit.log' })
  })
  it('reports every problem at once, each with its key path', () => {
    const problems = problemsOf({
      listen: { port: 70000 },
      auth: { lockout: { maxFailedAttempts: 0 }, bogus: 1 },
      tls: { minVersion: 'TLSv1.1' },
      rbac: { roles: { user: { permissions: ['inference', 'fly'] } } }
    })
    expect(problems).toEqual(expect.arrayContaining([
      'listen.port: must be <= 65535',
      'auth.lockout.maxFailedAttempts: must be >= 1',
      'auth.bogus: unknown key',
      'tls.minVersion: must be one of "TLSv1.2", "TLSv1.3"'
    ]))
    expect(problems.some((p) => p.startsWith('rbac.roles.user.permissions.1:'))).toBe(true)
    expect(problems.length).toBeGreaterThanOrEqual(5)
  })
  it('unknown top-level keys are errors', () => {
    expect(problemsOf({ listn: {} })).toEqual(['listn: unknown key (did you mean listen?)'])
  })
  it('tls.enabled false is refused on a non-loopback address', () => {
    expect(problemsOf({ listen: { host: '0.0.0.0' }, tls: { enabled: false } })).toEqual(['tls.enabled: false is allowed only when listen.host is a loopback address'])
    expect(problemsOf({ listen: { host: '127.0.0.1' }, tls: { enabled: false } })).toEqual([])
  })
  it('load shedding is off (0) or at least two heartbeats (20 ms)', () => {
    expect(problemsOf({ limits: { maxEventLoopDelayMs: 5 } })).toEqual(['limits.maxEventLoopDelayMs: must be 0 (off) or at least 20'])
    expect(problemsOf({ limits: { maxEventLoopDelayMs: 0 } })).toEqual([])
    expect(problemsOf({ limits: { maxEventLoopDelayMs: 20 } })).toEqual([])
    expect(problemsOf({ limits: { maxEventLoopDelayMs: 10001 } })).toEqual([expect.stringMatching(/^limits\.maxEventLoopDelayMs: must be <= 10000/)])
  })
  it('roles named elsewhere must exist', () => {
    expect(problemsOf({ masking: { exemptRoles: ['auditor'] }, auth: { mfa: { requiredForRoles: ['nobody'] } } })).toEqual(expect.arrayContaining([
      'masking.exemptRoles.0: unknown role "auditor"', 'auth.mfa.requiredForRoles.0: unknown role "nobody"'
    ]))
  })
  it('a missing key and a bad role name are named by their own key path', () => {
    expect(problemsOf({ audit: { sinks: [{ type: 'file' }] } })).toEqual(['audit.sinks.0.path: is required'])
    expect(problemsOf({ rbac: { roles: { Ops: { permissions: [] } } } })).toEqual([expect.stringMatching(/^rbac\.roles\.Ops: name must match pattern/)])
    expect(problemsOf({ rbac: { roles: {} } })).toEqual(['rbac.roles: must NOT have fewer than 1 properties'])
  })

  it('a custom pattern that matches the empty string is refused', () => {
    expect(problemsOf({ masking: { custom: [{ name: 'emp', pattern: 'x*' }] } })).toEqual(['masking.custom.0.pattern: pattern matches the empty string'])
  })

  it('bad custom masking regexes and unknown entities are reported', () => {
    const p = problemsOf({ masking: { entities: ['ssn', 'dna'], custom: [{ name: 'emp', pattern: '(' }] } })
    expect(p.some((x) => x.startsWith('masking.entities.1: unknown entity "dna"'))).toBe(true)
    expect(p.some((x) => x.startsWith('masking.custom.0.pattern:'))).toBe(true)
  })
  it('trustProxies entries must be IPs or CIDRs, upstream.url must be a bare origin', () => {
    expect(problemsOf({ trustProxies: ['10.0.0.0/8', 'nope'], upstream: { url: 'http://ollama:11434/api' } })).toEqual(expect.arrayContaining([
      'trustProxies.1: not an IP address or CIDR', 'upstream.url: must be scheme://host:port with no path, query or credentials'
    ]))
  })
  it('upstream.url alone is one host named default; upstream.hosts replaces it, with the fleet defaults', () => {
    const single = buildConfig({ upstream: { url: 'http://10.0.0.5:11434' } }, '/etc/gatehouse')
    expect(single.upstream.hosts).toEqual([{ name: 'default', url: 'http://10.0.0.5:11434', maxConcurrent: null }])
    const fleet = buildConfig({ upstream: { hosts: [{ name: 'gpu-a', url: 'http://10.0.0.5:11434', maxConcurrent: 4 }, { name: 'gpu-b', url: 'http://10.0.0.6:11434' }] } }, '/etc/gatehouse')
    expect(fleet.upstream.url).toBeNull()
    expect(fleet.upstream.hosts.map((h) => [h.name, h.maxConcurrent])).toEqual([['gpu-a', 4], ['gpu-b', null]])
    expect(fleet.upstream).toMatchObject({ discoveryIntervalSeconds: 15, health: { intervalSeconds: 10, failuresToEject: 3, cooldownSeconds: 30 }, queueTimeoutMs: 30000 })
  })
  it('upstream.url and upstream.hosts together, bad or repeated host names and bad host urls are refused', () => {
    expect(problemsOf({ upstream: { url: 'http://a:1', hosts: [{ name: 'a', url: 'http://a:1' }] } }))
      .toEqual(['upstream.hosts: cannot be set together with upstream.url; list every host under upstream.hosts'])
    expect(problemsOf({ upstream: { url: 'http://a:1', hosts: [{ name: 'A', url: 'http://a:1' }] }, listen: { port: -1 } }))
      .toEqual(expect.arrayContaining(['upstream.hosts: cannot be set together with upstream.url; list every host under upstream.hosts', 'listen.port: must be >= 0']))
    const problems = problemsOf({
      upstream: { hosts: [{ name: 'Gpu_A', url: 'http://a:1' }, { name: 'b', url: 'http://b:1' }, { name: 'b', url: 'http://c:1/x' }, { name: 'x'.repeat(33), url: 'http://d:1' }] }
    })
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^upstream\.hosts\.0\.name: /),
      expect.stringMatching(/^upstream\.hosts\.3\.name: /)
    ]))
    expect(problemsOf({ upstream: { hosts: [{ name: 'b', url: 'http://b:1' }, { name: 'b', url: 'http://c:1/x' }] } })).toEqual([
      'upstream.hosts.1.url: must be scheme://host:port with no path, query or credentials',
      'upstream.hosts.1.name: "b" is used twice'
    ])
    expect(problemsOf({ upstream: { hosts: [] } })).toEqual([expect.stringMatching(/^upstream\.hosts: /)])
    expect(problemsOf({ upstream: { hosts: [{ name: 'a', url: 'http://a:1', maxConcurrent: 0 }] } })).toEqual([expect.stringMatching(/^upstream\.hosts\.0\.maxConcurrent: /)])
  })
  it('a password in store.url or redis.url is refused: secrets never live in the YAML', () => {
    expect(problemsOf({ store: { url: 'postgres://gh:hunter2@db:5432/gh' }, redis: { url: 'redis://:hunter2@cache:6379' } })).toEqual([
      'store.url: must not contain a password; set it in PGPASSWORD (or ~/.pgpass)',
      'redis.url: must not contain a password; set it in GATEHOUSE_REDIS_PASSWORD'
    ])
    expect(problemsOf({ store: { url: 'postgres://gh@db:5432/gh' }, redis: { url: 'redis://cache:6379' } })).toEqual([])
  })
  it('the result is frozen', () => {
    const c = buildConfig({}, '/x')
    expect(() => { (c.listen as { port: number }).port = 1 }).toThrow()
  })
  it('YAML syntax errors and duplicate keys are reported, not guessed around', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'))
    const f = join(dir, 'g.yaml')
    writeFileSync(f, 'listen:\n  port: 1\n  port: 2\n')
    expect(() => loadConfig(f)).toThrow(ConfigError)
  })
  it('the committed example config loads cleanly', () => {
    const c = loadConfig(join(import.meta.dirname, '../../../config/gatehouse.yaml'))
    expect(c.upstream.url).toBe('http://127.0.0.1:11434')
  })
  it('--config wins over GATEHOUSE_CONFIG, which wins over the default path', () => {
    expect(configPathFrom('/a.yaml', { GATEHOUSE_CONFIG: '/b.yaml' })).toBe('/a.yaml')
    expect(configPathFrom(undefined, { GATEHOUSE_CONFIG: '/b.yaml' })).toBe('/b.yaml')
    expect(configPathFrom(undefined, {}).endsWith('config/gatehouse.yaml')).toBe(true)
  })
})
