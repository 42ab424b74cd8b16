// Security regression: events are built from typed fields only, so nothing free-form reaches them.
import { describe, expect, it } from 'vitest'
import { buildEvent } from '../../../src/audit/event.js'
import type { AuditInput } from '../../../src/audit/index.js'

const ctx = { time: 0, replica: 'r1' }
const SECRETS = ['hunter2-password', '123456', 'JBSWY3DPEHPK3PXP', 'eyJhbGciOiJFZERTQSJ9.tok.sig', 'ghk_live_secretkey', 'tell me a secret prompt', 'model output text', 'jane@example.com']

describe('an audit event never carries fields its input type does not name', () => {
  it('drops unknown fields at every level of the input', () => {
    const input = {
      action: 'login',
      outcome: 'failure',
      userName: 'alice',
      password: SECRETS[0],
      totp: SECRETS[1],
      totpSecret: SECRETS[2],
      token: SECRETS[3],
      apiKey: SECRETS[4],
      target: { userName: 'bob', password: SECRETS[0] },
      request: {
        method: 'POST', path: '/api/chat', status: 200, durationNs: 1, decision: 'allow',
        prompt: SECRETS[5], output: SECRETS[6], maskedValues: [SECRETS[7]], headers: { authorization: `Bearer ${SECRETS[3]}` }
      },
      config: { hash: 'abc', jwtKey: SECRETS[3] },
      sink: { type: 'syslog', error: 'ECONNREFUSED', url: `tls://user:${SECRETS[0]}@siem:6514` }
    } as unknown as AuditInput
    const text = JSON.stringify(buildEvent(input, ctx))
    for (const s of SECRETS) expect(text).not.toContain(s)
  })

  it('turns a free-text reason or sink error into "other"', () => {
    const ev = buildEvent({ action: 'login', outcome: 'failure', reason: `wrong password ${SECRETS[0]}` }, ctx)
    expect(ev.gatehouse.reason).toBe('other')
    expect(ev.event.reason).toBe('other')
    const sinkEv = buildEvent({ action: 'audit-sink-error', outcome: 'failure', sink: { type: 'file', error: `open failed: ${SECRETS[3]}` } }, ctx)
    expect(sinkEv.gatehouse.sink?.error).toBe('other')
  })

  it('keeps only counts in gatehouse.masked, never masked values', () => {
    const masked = { email: 2, 'jane@example.com': 1, ssn: '123-45-6789' } as unknown as Record<string, number>
    const ev = buildEvent({ action: 'model-request', outcome: 'success', request: { method: 'POST', path: '/api/generate', status: 200, durationNs: 1, decision: 'allow', masked } }, ctx)
    expect(ev.gatehouse.masked).toEqual({ email: 2 })
  })

  it('cuts the query string off url.path (API keys travel there)', () => {
    const ev = buildEvent({ action: 'access-denied', outcome: 'failure', request: { method: 'GET', path: `/api/tags?key=${SECRETS[4]}`, status: 401, durationNs: 1, decision: 'deny' } }, ctx)
    expect(ev.url?.path).toBe('/api/tags')
  })

  it('bounds user-supplied strings', () => {
    const ev = buildEvent({ action: 'login', outcome: 'failure', userName: 'x'.repeat(100_000), requestId: 'y'.repeat(10_000) }, ctx)
    expect(ev.user?.name?.length).toBe(256)
    expect(ev.http?.request.id?.length).toBe(128)
  })
})
