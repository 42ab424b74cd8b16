// The webhook message is built from the report alone: the verdict line, one section per control
// holding its failing and warning checks (failures first), within Slack's block limits.
import { describe, expect, it } from 'vitest'
import { complianceReport, type CheckResult } from '../../../src/ops/compliance.js'
import { isWebhookUrl, webhookMessage } from '../../../src/ops/compliance-notify.js'
import { complianceWebhookFromEnv } from '../../../src/config/notify-env.js'
import { healthyInput, productionConfig } from './compliance-fixtures.js'

describe('the compliance webhook message', () => {
  it('a compliant report says so and lists only the warnings, by control', () => {
    const m = webhookMessage(complianceReport(healthyInput()))
    expect(m.text).toMatch(/^Gatehouse compliance COMPLIANT: 0 fail, \d+ warn/)
    expect(m.blocks[0]?.text.text).toBe(`*${m.text}*`)
    expect(m.blocks.slice(1).map((b) => b.text.text.split('\n')[0])).toEqual(['*CC6.6*'])
    expect(m.blocks[1]?.text.text).toContain('• WARN `upstream-isolation`')
  })

  it('puts a control\'s failures before its warnings', () => {
    const report = complianceReport(healthyInput(productionConfig((r) => { r.auth.mfa.requiredForRoles = ['user'] })))
    const cc61 = webhookMessage(report).blocks.find((b) => b.text.text.startsWith('*CC6.1*'))?.text.text ?? ''
    expect(cc61.split('\n').slice(1).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(['• FAIL `mfa-admin`', '• WARN `mfa-all-roles`'])
  })

  it('keeps each section within 3000 characters and the message within 50 blocks', () => {
    const base = complianceReport(healthyInput())
    const checks: CheckResult[] = Array.from({ length: 80 }, (_, i) => ({
      id: `c${i}`, control: i % 2 === 0 ? 'CC6.1' : 'CC7.2', title: 't', verdict: 'fail', detail: 'x'.repeat(200), evidence: {}
    }))
    const big = webhookMessage({ ...base, checks })
    expect(big.blocks.every((b) => b.text.text.length <= 3000)).toBe(true)
    const many = webhookMessage({ ...base, checks: checks.map((c, i) => ({ ...c, control: `C${i}` as CheckResult['control'] })) })
    expect(many.blocks).toHaveLength(50)
    expect(many.blocks[49]?.text.text).toMatch(/^… 32 more control\(s\)/)
  })
})

describe('the webhook URL', () => {
  it('is read from the variable compliance.notifyUrlEnv names; empty is none', () => {
    const config = { compliance: { scanDir: '/s', alertRulesFile: '/a', notifyUrlEnv: 'V' } }
    expect(complianceWebhookFromEnv(config, { V: 'https://b', GATEHOUSE_COMPLIANCE_WEBHOOK: 'https://c' })).toBe('https://b')
    expect(complianceWebhookFromEnv(config, { V: '' })).toBeNull()
    expect(complianceWebhookFromEnv(config, {})).toBeNull()
  })
  it('must be absolute http or https', () => {
    expect(isWebhookUrl('https://hooks.slack.com/services/x')).toBe(true)
    expect(isWebhookUrl('http://127.0.0.1:9/x')).toBe(true)
    expect(isWebhookUrl('file:///etc/passwd')).toBe(false)
    expect(isWebhookUrl('hooks.slack.com/x')).toBe(false)
  })
})
