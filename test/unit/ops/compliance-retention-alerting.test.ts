// The retention and alerting checks: audit.retentionDays unset or under a year warns (saying what
// auditors expect), the alert rules file must be present and parseable, and the intrusion-detection
// alert belongs in it. The evidence bundle's statistics count alert events by rule.
import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runComplianceChecks, type CheckResult } from '../../../src/ops/compliance.js'
import { alertRulesFacts } from '../../../src/ops/compliance-input.js'
import { readAuditStatistics } from '../../../src/ops/audit-stats.js'
import { healthyInput, productionConfig, ROOT, NOW } from './compliance-fixtures.js'
import { tempDir } from '../audit/fixtures.js'

const byId = (checks: CheckResult[], id: string): CheckResult => {
  const c = checks.find((x) => x.id === id)
  if (!c) throw new Error(`no check ${id}`)
  return c
}
const retention = (days: number | null) =>
  byId(runComplianceChecks(healthyInput(productionConfig((raw) => { (raw.audit as Record<string, unknown>).retentionDays = days }))),
    'audit-retention')

describe('audit-retention check', () => {
  it('passes at a year or more, naming the setting as evidence', () => {
    expect(retention(400)).toMatchObject({ verdict: 'pass', control: 'CC7.2', evidence: { 'audit.retentionDays': 400 } })
    expect(retention(365).verdict).toBe('pass')
  })
  it('warns when unset (kept forever) or under a year, and says what auditors expect', () => {
    for (const days of [null, 90]) {
      const c = retention(days)
      expect(c.verdict).toBe('warn')
      expect(c.detail).toMatch(/SOC 2 auditors expect a defined retention period/)
      expect(c.detail).toMatch(/365 days/)
    }
    expect(retention(null).detail).toMatch(/kept forever/)
  })
})

describe('alert-rules check', () => {
  const check = (facts: ReturnType<typeof alertRulesFacts>) => byId(runComplianceChecks({ ...healthyInput(), alertRules: facts }), 'alert-rules')

  it('the shipped deploy/monitoring/alerts.yaml passes: parseable, with the intrusion-detection alert', () => {
    const facts = alertRulesFacts(join(ROOT, 'deploy/monitoring/alerts.yaml'))
    expect(facts.error).toBeNull()
    expect(facts.alerts).toContain('GatehouseIntrusionDetected')
    expect(check(facts)).toMatchObject({ verdict: 'pass', control: 'CC7.2' })
  })

  it('a missing file warns; a file that is not YAML, not a rules file or without alerts fails', () => {
    const t = tempDir()
    try {
      expect(check(alertRulesFacts(join(t.dir, 'absent.yaml')))).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/does not exist/) })
      writeFileSync(join(t.dir, 'bad.yaml'), 'groups: [unclosed\n')
      expect(check(alertRulesFacts(join(t.dir, 'bad.yaml')))).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/not YAML/) })
      writeFileSync(join(t.dir, 'other.yaml'), 'scrape_configs: []\n')
      expect(check(alertRulesFacts(join(t.dir, 'other.yaml'))).verdict).toBe('fail')
      writeFileSync(join(t.dir, 'empty.yaml'), 'groups: [{ name: g, rules: [] }]\n')
      expect(check(alertRulesFacts(join(t.dir, 'empty.yaml'))).verdict).toBe('fail')
    } finally { t.cleanup() }
  })

  it('rules without the intrusion-detection alert warn', () => {
    const c = check({ file: 'alerts.yaml', error: null, alerts: ['GatehouseAuditUnavailable'] })
    expect(c.verdict).toBe('warn')
    expect(c.detail).toMatch(/GatehouseIntrusionDetected/)
  })
})

describe('audit statistics', () => {
  it('count alert events in the period by rule', async () => {
    const t = tempDir()
    try {
      const at = (ms: number) => new Date(ms).toISOString()
      const line = (time: number, kind: string, reason: string) =>
        JSON.stringify({ '@timestamp': at(time), event: { action: kind === 'alert' ? 'intrusion-detected' : 'login', kind, outcome: 'success', reason } })
      const file = join(t.dir, 'audit.log')
      writeFileSync(file, [line(NOW - 10, 'alert', 'password_spraying'), line(NOW - 5, 'alert', 'password_spraying'),
        line(NOW - 4, 'alert', 'revoked_key'), line(NOW - 3, 'event', 'bad_password'), line(NOW + 10, 'alert', 'totp_guessing')].join('\n') + '\n')
      const s = await readAuditStatistics([file], { from: NOW - 100, to: NOW })
      expect({ ...s.detections }).toEqual({ password_spraying: 2, revoked_key: 1 })
    } finally { t.cleanup() }
  })
})
