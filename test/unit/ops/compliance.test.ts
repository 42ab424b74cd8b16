// The SOC 2 checks as a pure function: the shipped production example is compliant, and each
// deliberately weakened configuration or state fails the check that guards it, naming its control.
import { describe, expect, it } from 'vitest'
import { complianceReport, nonAeadCiphers, runComplianceChecks, type CheckResult, type ComplianceInput } from '../../../src/ops/compliance.js'
import { DAY, NOW, apiKey, healthyInput, productionConfig, user, type Raw } from './compliance-fixtures.js'
import type { GatehouseConfig } from '../../../src/config/schema.js'

const failing = (checks: CheckResult[]) => checks.filter((c) => c.verdict === 'fail').map((c) => `${c.control} ${c.id}`).sort()
const byId = (checks: CheckResult[], id: string): CheckResult => {
  const c = checks.find((x) => x.id === id)
  if (!c) throw new Error(`no check ${id}`)
  return c
}

describe('the production example configuration', () => {
  it('passes every check (warnings allowed) and the report says compliant', () => {
    const report = complianceReport(healthyInput())
    expect(failing(report.checks)).toEqual([])
    expect(report.compliant).toBe(true)
    expect(report.summary.fail).toBe(0)
    expect(report.summary.pass).toBeGreaterThanOrEqual(15)
  })

  it('every check names one of the SOC 2 controls, a verdict and the evidence it looked at', () => {
    const checks = runComplianceChecks(healthyInput())
    const ids = checks.map((c) => c.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const c of checks) {
      expect(['CC6.1', 'CC6.6', 'CC6.7', 'CC6.8', 'CC7.2', 'CC8.1', 'C1.1']).toContain(c.control)
      expect(['pass', 'fail', 'warn', 'info']).toContain(c.verdict)
      expect(Object.keys(c.evidence).length, c.id).toBeGreaterThan(0)
      expect(c.detail.length, c.id).toBeGreaterThan(0)
    }
    for (const control of ['CC6.1', 'CC6.6', 'CC6.7', 'CC7.2', 'CC8.1']) expect(checks.some((c) => c.control === control), control).toBe(true)
  })
})

const weakenedConfigs: Array<[string, (raw: Raw) => void, string]> = [
  ['TLS off (on loopback, which the loader allows)', (r) => { r.tls.enabled = false; r.listen.host = '127.0.0.1' }, 'CC6.7 tls-enabled'],
  ['a CBC suite among the ciphers', (r) => { r.tls.ciphers = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA' }, 'CC6.7 tls-aead-ciphers'],
  ['a cipher keyword that expands to non-AEAD suites', (r) => { r.tls.ciphers = 'HIGH:!aNULL' }, 'CC6.7 tls-aead-ciphers'],
  ['every IPv4 address trusted as a proxy', (r) => { r.trustProxies = ['10.0.0.0/8', '0.0.0.0/0'] }, 'CC6.6 trust-proxies'],
  ['every IPv6 address trusted as a proxy', (r) => { r.trustProxies = ['::/0'] }, 'CC6.6 trust-proxies'],
  ['MFA only for the user role', (r) => { r.auth.mfa.requiredForRoles = ['user'] }, 'CC6.1 mfa-admin'],
  ['no MFA at all', (r) => { r.auth.mfa.requiredForRoles = [] }, 'CC6.1 mfa-admin'],
  ['a custom all-powerful role without MFA', (r) => { r.rbac.roles.root = { permissions: ['*'], models: ['*'] }; r.auth.mfa.requiredForRoles = ['admin', 'user', 'monitor', 'model-loader'] }, 'CC6.1 mfa-admin'],
  ['lockout after 1000 attempts (effectively off)', (r) => { r.auth.lockout.maxFailedAttempts = 1000 }, 'CC6.1 lockout'],
  ['a 10-second lockout', (r) => { r.auth.lockout.lockoutSeconds = 10 }, 'CC6.1 lockout'],
  ['8-character passwords', (r) => { r.auth.password.minLength = 8 }, 'CC6.1 password-length'],
  ['24-hour sessions', (r) => { r.auth.sessionTtlSeconds = 86400 }, 'CC6.1 session-lifetime'],
  ['a 2-hour idle timeout', (r) => { r.auth.idleTimeoutSeconds = 7200 }, 'CC6.1 session-lifetime'],
  ['masking off', (r) => { r.masking.enabled = false }, 'C1.1 masking'],
  ['audit fail-open', (r) => { r.audit.failClosed = false }, 'CC7.2 audit-fail-closed'],
  ['audit to stdout only', (r) => { r.audit.sinks = [{ type: 'stdout' }] }, 'CC7.2 audit-sinks-durable']
]

describe.each(weakenedConfigs)('weakened: %s', (_name, mutate, expected) => {
  it(`fails ${expected} and nothing unrelated`, () => {
    const healthy = healthyInput(productionConfig(mutate))
    const checks = runComplianceChecks(healthy)
    expect(failing(checks)).toContain(expected)
    // the other checks keep their healthy verdicts: a weakening fails only what guards it
    const f = failing(checks).filter((x) => x !== expected)
    const allowedAlso: Record<string, string[]> = {
      'CC6.7 tls-enabled': ['CC6.7 tls-min-version', 'CC6.7 tls-aead-ciphers']
    }
    expect(f.filter((x) => !(allowedAlso[expected] ?? []).includes(x))).toEqual([])
    expect(complianceReport(healthy, checks).compliant).toBe(false)
  })
})

const weakenedState: Array<[string, (i: ComplianceInput) => void, string]> = [
  ['an active account unused for 91 days', (i) => { i.users.push(user({ username: 'carol', lastLoginAt: NOW - 91 * DAY })) }, 'CC6.1 stale-accounts'],
  ['an account created 100 days ago and never used', (i) => { i.users.push(user({ username: 'dan', lastLoginAt: null, createdAt: NOW - 100 * DAY })) }, 'CC6.1 stale-accounts'],
  ['an active API key without expiry', (i) => { i.keys.push(apiKey({ id: 'key-3', name: 'forever', expiresAt: null })) }, 'CC6.1 key-expiry'],
  ['the bootstrap admin untouched since first start', (i) => {
    i.users = [user({ username: 'admin', roles: ['admin'], totpEnrolled: false, totpSecretEnc: null, lastLoginAt: null, createdAt: NOW - DAY, updatedAt: NOW - DAY })]
  }, 'CC6.1 bootstrap-admin'],
  ['an all-zero key from the environment', (i) => { (i.secrets.keys[0] as { weak: boolean }).weak = true }, 'CC6.1 secrets'],
  ['the same key for two purposes', (i) => { i.secrets.duplicates = [['totp-encryption', 'masking-hmac']] }, 'CC6.1 secrets'],
  ['secrets that cannot be loaded', (i) => { i.secrets = { error: 'EACCES', keys: [], duplicates: [] } }, 'CC6.1 secrets'],
  ['an audit sink that cannot be written', (i) => { (i.auditSinkProbe[0] as { ok: boolean, error?: string }).ok = false }, 'CC7.2 audit-sinks-writable'],
  ['a tampered audit log', (i) => {
    const s = i.chainVerification?.sinks[0]
    if (s) s.result = { ok: false, events: 3, checkpoints: 0, replicas: [], notes: [], firstBad: { file: s.path, line: 4, code: 'modified', reason: 'modified: the hash does not match' } }
  }, 'CC7.2 audit-chain'],
  ['an expired server certificate', (i) => { if (i.certificate) i.certificate.notAfter = new Date(NOW - DAY).toISOString() }, 'CC6.7 tls-certificate']
]

describe.each(weakenedState)('weakened state: %s', (_name, spoil, expected) => {
  it(`fails ${expected} and nothing else`, () => {
    const input = healthyInput()
    spoil(input)
    const checks = runComplianceChecks(input)
    expect(failing(checks)).toEqual([expected])
  })
})

describe('boundaries and non-failing findings', () => {
  it('an account used 89 days ago, a revoked or expired key without expiry, and a disabled stale account all pass', () => {
    const i = healthyInput()
    i.users.push(user({ username: 'erin', lastLoginAt: NOW - 89 * DAY }), user({ username: 'old', status: 'disabled', lastLoginAt: NOW - 500 * DAY }))
    i.keys.push(apiKey({ id: 'k9', expiresAt: NOW - DAY }))
    const checks = runComplianceChecks(i)
    expect(byId(checks, 'stale-accounts').verdict).toBe('pass')
    expect(byId(checks, 'key-expiry').verdict).toBe('pass')
  })
  it('the bootstrap admin passes once enrolled in MFA', () => {
    const i = healthyInput()
    i.users = [user({ username: 'admin', roles: ['admin'], totpEnrolled: true, lastLoginAt: NOW - DAY, createdAt: NOW - 2 * DAY, updatedAt: NOW - DAY })]
    expect(byId(runComplianceChecks(i), 'bootstrap-admin').verdict).toBe('pass')
  })
  it('a configuration not yet recorded by a config-loaded event is a CC8.1 warning, not a failure', () => {
    const i = healthyInput()
    i.recordedConfigHashes = ['something-else']
    const c = byId(runComplianceChecks(i), 'config-hash')
    expect([c.control, c.verdict]).toEqual(['CC8.1', 'warn'])
    expect(c.evidence.configHash).toBe(i.configHash)
  })
  it('upstream isolation can only be a warning, and mTLS is reported as information', () => {
    const checks = runComplianceChecks(healthyInput())
    expect(byId(checks, 'upstream-isolation')).toMatchObject({ control: 'CC6.6', verdict: 'warn' })
    expect(byId(checks, 'mtls').verdict).toBe('info')
  })
  it('a development certificate is a warning', () => {
    const i = healthyInput()
    if (i.certificate) i.certificate.development = true
    expect(byId(runComplianceChecks(i), 'tls-certificate').verdict).toBe('warn')
  })
  it('TLS 1.3 only makes the TLS 1.2 cipher list irrelevant', () => {
    const checks = runComplianceChecks(healthyInput(productionConfig((r) => { r.tls.minVersion = 'TLSv1.3'; r.tls.ciphers = 'AES128-SHA' })))
    expect(byId(checks, 'tls-aead-ciphers').verdict).toBe('pass')
  })
  it('nonAeadCiphers ignores exclusions and flags CBC, NULL and keywords', () => {
    expect(nonAeadCiphers('ECDHE-RSA-AES128-GCM-SHA256:!aNULL:-RC4:ECDHE-RSA-CHACHA20-POLY1305')).toEqual([])
    expect(nonAeadCiphers('AES256-SHA:HIGH:ECDHE-RSA-AES128-GCM-SHA256:NULL-GCM')).toEqual(['AES256-SHA', 'HIGH', 'NULL-GCM'])
  })
})

// The config loader already refuses a password in store.url or redis.url; the check stays as a
// second line of defence for configurations built some other way (e.g. by an embedding program).
describe('a password in a connection URL, past the loader', () => {
  for (const [key, url] of [['store', 'postgres://gatehouse:hunter2@postgres:5432/gatehouse'], ['redis', 'redis://:hunter2@redis:6379']] as const) {
    it(`fails CC6.1 secrets for ${key}.url`, () => {
      const config = structuredClone(productionConfig()) as GatehouseConfig
      ;(config[key] as { url: string }).url = url
      expect(failing(runComplianceChecks(healthyInput(config)))).toContain('CC6.1 secrets')
    })
  }
})
