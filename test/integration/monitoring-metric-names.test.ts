// The dashboard and the alert rules name metrics by string; nothing but this test ties those names
// to the code. A real gateway serves a few requests (a streamed chat with PII, a failed login, a
// model list), then every metric a dashboard panel or an alert expression names must be in what
// GET /metrics returns to a scraper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { certificateNotAfterSeconds } from '../../src/tls/server-options.js'

const root = join(import.meta.dirname, '../..')
const NAME = /\b((?:gatehouse|process|nodejs)_[a-zA-Z0-9_]+)/g

/* eslint-disable @typescript-eslint/no-explicit-any */
function dashboardExpressions (): string[] {
  const d = JSON.parse(readFileSync(join(root, 'deploy/monitoring/grafana-dashboard.json'), 'utf8')) as any
  const panels = (d.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])])
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string))
  const vars = (d.templating.list as any[]).map((v) => (typeof v.query === 'object' ? v.query.query : v.query) as string)
  return [...exprs, ...vars]
}
function alertExpressions (): string[] {
  const doc = parse(readFileSync(join(root, 'deploy/monitoring/alerts.yaml'), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> }
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr))
}
const namesIn = (exprs: string[]) => new Set(exprs.flatMap((e) => [...e.matchAll(NAME)].map((m) => m[1] as string)))

let gw: TestGateway
let exposition = ''
const types = new Map<string, string>()

beforeAll(async () => {
  gw = await startTestGateway()
  gw.fake.script.tokens = ['Write to ', 'alice@example.com', ' today.']
  const user = await gw.createKey('user')
  // a scraper sees model labels only for models its role may use (the monitor role sees none); the
  // dashboard's by-model panels need a scraper whose role has the models
  const scraper = await gw.createKey('admin')
  const chat = await call(gw, 'POST', '/api/chat', {
    headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
  })
  expect(chat.status).toBe(200)
  expect(chat.text).not.toContain('alice@example.com')
  expect((await call(gw, 'GET', '/api/tags', { headers: { authorization: `Bearer ${user}` } })).status).toBe(200)
  const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'not the password at all' }) })
  expect(login.status).toBe(401)
  const metrics = await call(gw, 'GET', '/metrics', { headers: { authorization: `Bearer ${scraper}` } })
  expect(metrics.status).toBe(200)
  exposition = metrics.text
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string)
}, 30_000)
afterAll(async () => { await gw?.close() })

/** A name is exposed when it has a TYPE line, or is the _bucket/_sum/_count series of an exposed histogram. */
function exposed (name: string): boolean {
  if (types.has(name)) return true
  const base = /^(.+)_(bucket|sum|count)$/.exec(name)?.[1]
  return base !== undefined && types.get(base) === 'histogram'
}

describe('metric names used by deploy/monitoring', () => {
  it('the requests above were counted (the exposition is the live one)', () => {
    expect(exposition).toMatch(/^gatehouse_tokens_total\{model="llama3.2:latest",role="user",upstream="default",direction="output"\} 3$/m)
    expect(exposition).toMatch(/^gatehouse_masked_entities_total\{type="email"\} 1$/m)
    expect(exposition).toMatch(/^gatehouse_auth_failures_total\{reason="[^"]+"\} 1$/m)
    expect(exposition).toMatch(/^gatehouse_time_to_first_token_seconds_count\{route="\/api\/chat",model="llama3.2:latest"\} 1$/m)
    expect(exposition).toMatch(/^gatehouse_audit_sink_up\{index="0",type="file"\} 1$/m)
  })

  it('exports the loaded server certificate\'s notAfter', () => {
    const notAfter = certificateNotAfterSeconds(readFileSync(gw.config.tls.cert))
    expect(exposition).toContain(`\ngatehouse_tls_certificate_expiry_timestamp_seconds ${notAfter}\n`)
  })

  it('every metric a dashboard panel names exists', () => {
    const names = namesIn(dashboardExpressions())
    expect(names.size).toBeGreaterThanOrEqual(15)
    expect([...names].filter((n) => !exposed(n))).toEqual([])
  })

  it('every metric an alert names exists', () => {
    const names = namesIn(alertExpressions())
    expect(names.size).toBeGreaterThanOrEqual(12)
    expect([...names].filter((n) => !exposed(n))).toEqual([])
  })
})
