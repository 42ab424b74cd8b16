// A configuration change shown before it is applied: every changed key path with its old and new
// value (credential-like keys redacted), and the config-only compliance checks whose verdict flips.
import { describe, expect, it } from 'vitest'
import { diffConfigs, renderConfigDiff, REDACTED } from '../../../src/ops/config-diff.js'
import { CONFIG_ONLY_CHECKS, configOnlyChecks, runComplianceChecks } from '../../../src/ops/compliance.js'
import { healthyInput, productionConfig } from './compliance-fixtures.js'

describe('config diff', () => {
  it('the same configuration has no changes and flips nothing', () => {
    const d = diffConfigs(productionConfig(), productionConfig())
    expect(d).toMatchObject({ changes: [], checks: [], newlyFailing: false })
    expect(d.old.hash).toBe(d.new.hash)
  })

  it('names each changed key path with old → new; a key that did not exist has no side, null is a value', () => {
    const after = productionConfig((r) => { r.rateLimit.requestsPerMinute = 120; r.trustProxies = ['10.0.0.0/8']; r.tls.clientCa = 'ca.pem' })
    const d = diffConfigs(productionConfig(), after)
    expect(d.changes).toEqual([
      { path: 'rateLimit.requestsPerMinute', old: 600, new: 120 },
      { path: 'tls.clientCa', old: null, new: after.tls.clientCa },
      { path: 'trustProxies', old: [] },
      { path: 'trustProxies.0', new: '10.0.0.0/8' }
    ])
    const text = renderConfigDiff(d)
    expect(text).toMatch(/^ {2}tls\.clientCa: null → ".*ca\.pem"$/m)
    expect(text).toMatch(/^ {2}trustProxies\.0: \(absent\) → "10\.0\.0\.0\/8"$/m)
    expect(d.old.hash).not.toBe(d.new.hash)
  })

  it('a weaker lockout flips lockout to FAIL and is newly failing; the reverse diff flips it back', () => {
    const weak = productionConfig((r) => { r.auth.lockout.maxFailedAttempts = 50 })
    const d = diffConfigs(productionConfig(), weak)
    expect(d.checks).toEqual([expect.objectContaining({ id: 'lockout', control: 'CC6.1', old: 'pass', new: 'fail' })])
    expect(d.newlyFailing).toBe(true)
    const back = diffConfigs(weak, productionConfig())
    expect(back.checks).toEqual([expect.objectContaining({ id: 'lockout', old: 'fail', new: 'pass' })])
    expect(back.newlyFailing).toBe(false)
    expect(renderConfigDiff(d)).toMatch(/^ {2}auth\.lockout\.maxFailedAttempts: 3 → 50$/m)
    expect(renderConfigDiff(d)).toMatch(/^ {2}PASS → FAIL {2}CC6\.1 {2}lockout/m)
  })

  it('never shows a credential: URL passwords and credential-named keys are redacted', () => {
    // the loader refuses passwords in URLs, so this builds the configs past it, as a future key might
    const before = productionConfig()
    const after = structuredClone(before)
    after.store.url = 'postgres://gatehouse:hunter2@postgres:5432/gatehouse'
    ;(after.auth as unknown as Record<string, unknown>).apiToken = 'tok-123456'
    const d = diffConfigs(before, after)
    expect(JSON.stringify(d)).not.toContain('hunter2')
    expect(JSON.stringify(d)).not.toContain('tok-123456')
    expect(d.changes).toContainEqual({ path: 'auth.apiToken', new: REDACTED })
  })

  it('the config-only checks are the ones the full run decides the same way from the config alone', () => {
    const full = new Map(runComplianceChecks(healthyInput()).map((c) => [c.id, c.verdict]))
    const only = configOnlyChecks(productionConfig())
    expect(only.map((c) => c.id).sort()).toEqual([...CONFIG_ONLY_CHECKS].sort())
    for (const c of only) expect(c.verdict, c.id).toBe(full.get(c.id))
  })
})
