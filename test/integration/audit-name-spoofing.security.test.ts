// Security: a failed login with a name built to fool a log viewer (a right-to-left override, a
// Cyrillic letter among Latin ones) is audited under the canonical form of the name, with the
// invisible characters made visible and gatehouse.suspicious_name set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import type { AuditLine } from '../helpers/audit-lines.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

type Line = AuditLine & { gatehouse: AuditLine['gatehouse'] & { suspicious_name?: boolean } }

async function failedLogin (username: string): Promise<Line> {
  const res = await request(gw.url + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'not the password' }), dispatcher: gw.dispatcher })
  await res.body.text()
  expect(res.statusCode).toBe(401)
  const id = String(res.headers['x-request-id'])
  await gw.gateway.audit.flush()
  const text = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8')
  expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\uFEFF]/)
  const ev = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line).find((e) => e.http?.request.id === id && e.event.action === 'login')
  expect(ev).toBeDefined()
  return ev as Line
}

describe('spoofed user names on failed logins', () => {
  it('a bidi override: canonical (lower case, NFKC), made visible, flagged', async () => {
    const ev = await failedLogin('ＡＤＭＩＮ\u202Egnp.exe')
    expect(ev.user?.name).toBe('admin<U+202E>gnp.exe')
    expect(ev.gatehouse.suspicious_name).toBe(true)
  })

  it('a mixed-script look-alike of admin is flagged', async () => {
    const ev = await failedLogin('\u0430dmin')
    expect(ev.user?.name).toBe('\u0430dmin')
    expect(ev.gatehouse.suspicious_name).toBe(true)
  })

  it('a plain unknown name is not', async () => {
    const ev = await failedLogin('Mallory')
    expect(ev.user?.name).toBe('mallory')
    expect(ev.gatehouse.suspicious_name).toBeUndefined()
  })
})
