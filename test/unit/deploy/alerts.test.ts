// deploy/monitoring/alerts.yaml: promtool accepts the rules and passes alerts.test.yaml, and every
// alert is shaped for on-call use (for:, severity, summary, description, a runbook section that
// exists in docs/operations.md) and has a promtool case where it fires and one where it stays silent.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = join(import.meta.dirname, '../../..')
const dir = join(root, 'deploy/monitoring')

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
const rules = (parse(readFileSync(join(dir, 'alerts.yaml'), 'utf8')) as { groups: Array<{ name: string, rules: Rule[] }> })
  .groups.flatMap((g) => g.rules)
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string')

interface Check { eval_time: string, alertname: string, exp_alerts: Array<{ exp_labels?: Record<string, string> }> }
interface TestGroup { name: string, input_series: Array<{ series: string }>, alert_rule_test?: Check[] }
const tests = (parse(readFileSync(join(dir, 'alerts.test.yaml'), 'utf8')) as { tests: TestGroup[] }).tests

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
if (!promtool) {
  if (process.env.CI === 'true') throw new Error('promtool is required in CI: apt-get install prometheus (.ci/run does)')
  console.warn('SKIPPED promtool checks: promtool not installed (apt-get install prometheus)')
}

const run = (...args: string[]) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 })

describe.skipIf(!promtool)('promtool', () => {
  it('check rules accepts alerts.yaml', () => {
    const r = run('check', 'rules', 'alerts.yaml')
    expect(r.stdout + r.stderr).toContain('SUCCESS')
    expect(r.status, r.stdout + r.stderr).toBe(0)
  })
  it('test rules passes alerts.test.yaml', () => {
    const r = run('test', 'rules', 'alerts.test.yaml')
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('SUCCESS')
  })
})

describe('alerts.yaml', () => {
  const operations = readFileSync(join(root, 'docs/operations.md'), 'utf8')
  // GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped
  const anchors = new Set([...operations.matchAll(/^#{1,6} (.+)$/gm)].map((m) => (m[1] as string).trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')))

  it('has alerts with unique names', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15)
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length)
  })

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has for:, a severity, summary, description and a runbook section that exists', (_name, a) => {
    expect(a.for).toMatch(/^\d+[smh]$/)
    expect(['critical', 'warning']).toContain(a.labels?.severity)
    expect(a.annotations?.summary).toBeTruthy()
    expect(a.annotations?.description).toBeTruthy()
    const runbook = a.annotations?.runbook ?? ''
    expect(runbook).toMatch(/^docs\/operations\.md#[a-z0-9-]+$/)
    expect(anchors.has(runbook.split('#')[1] as string), `${runbook} is a heading of docs/operations.md`).toBe(true)
  })

  it.each(alerts.map((a) => [a.alert] as const))('%s has a promtool case where it fires and one where it stays silent', (name) => {
    let fires = false
    let silent = false
    for (const group of tests) {
      const instances = new Set(group.input_series.map((s) => /instance="([^"]+)"/.exec(s.series)?.[1]))
      for (const check of group.alert_rule_test ?? []) {
        if (check.alertname !== name) continue
        if (check.exp_alerts.length === 0) { silent = true; continue }
        fires = true
        // a neighbour in the same input that is not expected to alert counts as the silent case
        const alerting = new Set(check.exp_alerts.map((e) => e.exp_labels?.instance))
        if ([...instances].some((i) => !alerting.has(i))) silent = true
      }
    }
    expect(fires, `${name} fires in some test`).toBe(true)
    expect(silent, `${name} stays silent in some test`).toBe(true)
  })
})
