// The audit field tables in README.md and docs/audit.md match the events Gatehouse writes, both
// ways: every documented field appears in some event of this scenario (run through a real gateway
// and its audit file), and every field of those events is documented.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'
import { eventually } from '../helpers/eventually.js'

const ROOT = join(import.meta.dirname, '..', '..')
/** Objects whose keys are data (entity types), not field names. */
const LEAF_OBJECTS = new Set(['gatehouse.masked'])

/** Field names from the tables of `section` in a markdown file (first column, backticked; `.x` continues the previous name's parent). */
function documentedFields (file: string, section: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const start = text.indexOf(`\n## ${section}\n`)
  if (start < 0) throw new Error(`no section "${section}" in ${file}`)
  const end = text.indexOf('\n## ', start + 1)
  const fields = new Set<string>()
  for (const line of text.slice(start, end < 0 ? undefined : end).split('\n')) {
    if (!line.startsWith('| `')) continue
    const cell = line.split('|')[1] ?? ''
    let parent = ''
    for (const m of cell.matchAll(/`([^`]+)`/g)) {
      const name = m[1] as string
      const full = name.startsWith('.') ? parent + name : name
      parent = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : ''
      fields.add(full)
    }
  }
  return fields
}

function leafPaths (value: unknown, path: string, out: Set<string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !LEAF_OBJECTS.has(path)) {
    for (const [k, v] of Object.entries(value)) leafPaths(v, path === '' ? k : `${path}.${k}`, out)
    return
  }
  out.add(path)
}

let gw: TestGateway
let events: Array<Record<string, unknown>> = []
const PASSWORD = 'violet-harbor-cinnamon-42'
const json = { 'content-type': 'application/json' }

beforeAll(async () => {
  gw = await startTestGateway({
    rbac: { roles: { admin: { permissions: ['*'], models: ['*'] }, analyst: { permissions: ['inference'], models: ['llama3.2'] } } }
  })
  const a = gw.gateway.auth.userAdmin
  await a.addUser('root-admin', 'admin', PASSWORD)
  const s = await loginWithMfa(gw, 'root-admin', PASSWORD)
  const admin = { authorization: `Bearer ${s.token}` }
  await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: JSON.stringify({ username: 'root-admin', password: 'wrong-password-1' }) })
  await call(gw, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [], stream: false }) })
  const analyst = await gw.createKey('analyst')
  await call(gw, 'POST', '/api/chat', { anonymous: true, headers: { authorization: `Bearer ${analyst}` }, body: '{"model":"secret-model","messages":[]}' })
  // a user name that could pass for another on screen (Cyrillic а) is flagged
  await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: JSON.stringify({ username: 'p\u0430ul', password: 'x' }) })
  await call(gw, 'POST', '/admin/users', { anonymous: true, headers: { ...admin, ...json }, body: JSON.stringify({ username: 'paul', role: 'analyst' }) })
  await call(gw, 'POST', '/admin/users/paul/role', { anonymous: true, headers: { ...admin, ...json }, body: JSON.stringify({ role: 'admin' }) })
  await call(gw, 'POST', '/admin/keys', { anonymous: true, headers: { ...admin, ...json }, body: JSON.stringify({ name: 'ci', role: 'analyst' }) })
  // the events a short healthy run does not produce, through the same emitter
  gw.gateway.audit.emit({ action: 'audit-sink-error', outcome: 'failure', sink: { type: 'syslog', error: 'ECONNREFUSED', dropped: 3 } })
  gw.gateway.audit.emit({ action: 'intrusion-detected', outcome: 'success', reason: 'password_spraying', sourceIp: '192.0.2.9',
    detection: { count: 20, windowSeconds: 600 } })
  gw.gateway.audit.emit({ action: 'audit-retention', outcome: 'success',
    retention: {
      removed: ['audit.log.1'],
      anchor: { replica: 'gw-1', seq: 120, hash: 'a'.repeat(64) },
      anchors: [{ kind: 'rotation', replica: 'gw-1', seq: 120, hash: 'a'.repeat(64) }, { kind: 'retention', replica: 'gw-1-cli', seq: 7, hash: 'b'.repeat(64) }]
    } })
  gw.gateway.audit.emit({ action: 'access-denied', outcome: 'failure', sourceIp: '192.0.2.1', reason: 'auth_required',
    request: { method: 'GET', path: '/api/tags', status: 401, durationNs: 1, decision: 'deny', reason: 'auth_required' },
    repeat: { count: 41, start: Date.now() - 1000, end: Date.now() } })
  await eventually(() => {
    events = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(events.some((e) => (e.gatehouse as { repeat_count?: number }).repeat_count === 41)).toBe(true)
  })
})
afterAll(async () => { await gw.close() })

describe('audit fields', () => {
  it('every event names the host it was written on (host.name)', () => {
    expect(events.length).toBeGreaterThan(5)
    for (const e of events) expect(e.host).toEqual({ name: hostname() })
  })
  for (const [file, section] of [['README.md', 'Audit events'], ['docs/audit.md', 'Event schema']] as const) {
    it(`${file}: every documented field is in some event, and every event field is documented`, () => {
      const documented = documentedFields(file, section)
      const seen = new Set<string>()
      for (const e of events) leafPaths(e, '', seen)
      expect([...documented].filter((f) => !seen.has(f)).sort(), 'documented but in no event').toEqual([])
      expect([...seen].filter((f) => !documented.has(f)).sort(), 'in events but not documented').toEqual([])
    })
  }
})
