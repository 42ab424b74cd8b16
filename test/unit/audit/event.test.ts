import { describe, expect, it } from 'vitest'
import { ACTIONS, AUDIT_ACTIONS, type AuditAction } from '../../../src/audit/index.js'
import { buildEvent } from '../../../src/audit/event.js'

const ctx = { time: Date.UTC(2026, 10, 26, 13, 14, 15, 16), replica: 'r1', hostName: 'gw1' }

describe('audit event builder', () => {
  it('covers exactly the documented actions', () => {
    const spec = ['login', 'mfa-verify', 'mfa-enroll', 'logout', 'account-locked', 'account-unlocked', 'token-rejected',
      'totp-replay', 'access-denied', 'model-request', 'user-created', 'user-disabled', 'user-enabled', 'role-changed',
      'mfa-reset', 'password-changed', 'key-created', 'key-revoked', 'key-rotated', 'config-loaded', 'audit-sink-error',
      'intrusion-detected', 'audit-retention', 'user-deleted']
    expect([...AUDIT_ACTIONS].sort()).toEqual(spec.sort())
  })

  it.each(AUDIT_ACTIONS.map((a) => [a]))('%s has the common ECS fields', (action: AuditAction) => {
    const ev = buildEvent({ action, outcome: 'success', userName: 'alice', sourceIp: '192.0.2.1', requestId: 'r-1' }, ctx)
    expect(ev['@timestamp']).toBe('2026-11-26T13:14:15.016Z')
    expect(ev.event.kind).toBe(action === 'intrusion-detected' ? 'alert' : 'event')
    expect(ev.event.action).toBe(action)
    expect(ev.event.outcome).toBe('success')
    expect(ev.event.category).toEqual(ACTIONS[action].category)
    expect(ev.event.type).toEqual(ACTIONS[action].type)
    expect(ev.event.category.length).toBeGreaterThan(0)
    expect(ev.service.name).toBe('gatehouse')
    expect(ev.source?.ip).toBe('192.0.2.1')
    expect(ev.user?.name).toBe('alice')
    expect(ev.http?.request.id).toBe('r-1')
  })

  it('an intrusion-detected event is an ECS alert naming its rule and what it counted', () => {
    const ev = buildEvent({ action: 'intrusion-detected', outcome: 'success', reason: 'password_spraying', sourceIp: '192.0.2.1',
      detection: { count: 10, windowSeconds: 600 } }, ctx)
    expect(ev.event).toMatchObject({ kind: 'alert', reason: 'password_spraying', category: ['intrusion_detection'] })
    expect(ev.gatehouse.detection).toEqual({ count: 10, window_seconds: 600 })
  })

  it('an audit-retention event keeps only file names and a well-formed anchor', () => {
    const hash = 'a'.repeat(64)
    const ev = buildEvent({ action: 'audit-retention', outcome: 'success',
      retention: { removed: ['audit.log.1', '../etc/passwd'], anchor: { replica: 'r1', seq: 7, hash } } }, ctx)
    expect(ev.gatehouse.retention).toEqual({ removed: ['audit.log.1', 'other'], anchor: { replica: 'r1', seq: 7, hash }, anchors: [] })
    const bad = buildEvent({ action: 'audit-retention', outcome: 'success',
      retention: { removed: [], anchor: { replica: 'r1', seq: 7, hash: 'not-a-hash' } } }, ctx)
    expect(bad.gatehouse.retention).toEqual({ removed: [], anchor: null, anchors: [] })
  })

  it('an audit-retention event names every anchor with its kind, and drops malformed ones', () => {
    const hash = 'b'.repeat(64)
    const ev = buildEvent({ action: 'audit-retention', outcome: 'success',
      retention: {
        removed: ['audit.log.1'],
        anchor: { replica: 'gw', seq: 9, hash },
        anchors: [
          { replica: 'gw', seq: 9, hash, kind: 'rotation' },
          { replica: 'gw-cli', seq: 3, hash, kind: 'retention' },
          { replica: 'gw-cli', seq: 3, hash: 'short', kind: 'retention' },
          { replica: 'gw', seq: 9, hash, kind: 'periodic' as 'rotation' },
          null as unknown as { replica: string, seq: number, hash: string, kind: 'rotation' }
        ]
      } }, ctx)
    expect(ev.gatehouse.retention?.anchors).toEqual([
      { replica: 'gw', seq: 9, hash, kind: 'rotation' },
      { replica: 'gw-cli', seq: 3, hash, kind: 'retention' }
    ])
  })

  it('maps categories as ECS expects for the main kinds', () => {
    const cat = (action: AuditAction) => { const e = buildEvent({ action, outcome: 'success' }, ctx); return [e.event.category, e.event.type] }
    expect(cat('login')).toEqual([['authentication'], ['start']])
    expect(cat('model-request')).toEqual([['web'], ['access']])
    expect(cat('user-created')).toEqual([['iam'], ['user', 'creation']])
    expect(cat('config-loaded')).toEqual([['configuration'], ['change']])
  })

  it('puts every documented request field on a request event, nested', () => {
    const ev = buildEvent({
      action: 'model-request',
      outcome: 'failure',
      requestId: 'abc',
      request: {
        method: 'POST', path: '/v1/chat/completions?api_key=secret', status: 403, durationNs: 5_000_000_000_123n,
        model: 'llama3.2:latest', inputTokens: 3, outputTokens: null, decision: 'deny', reason: 'model_forbidden',
        credential: 'api_key', masked: { email: 2, ssn: 1 }
      }
    }, ctx)
    expect(ev.http).toEqual({ request: { id: 'abc', method: 'POST' }, response: { status_code: 403 } })
    expect(ev.url).toEqual({ path: '/v1/chat/completions' })
    expect(ev.event.duration).toBe(5_000_000_000_123)
    expect(ev.gen_ai).toEqual({ request: { model: 'llama3.2:latest' }, usage: { input_tokens: 3, output_tokens: null } })
    expect(ev.gatehouse).toEqual({ decision: 'deny', reason: 'model_forbidden', credential: 'api_key', masked: { email: 2, ssn: 1 } })
  })

  it('records admin targets, keys, config hashes and sink errors in their own fields', () => {
    expect(buildEvent({ action: 'role-changed', outcome: 'success', userName: 'root', target: { userName: 'bob', role: 'admin' } }, ctx).user)
      .toEqual({ name: 'root', target: { name: 'bob', roles: ['admin'] } })
    expect(buildEvent({ action: 'key-created', outcome: 'success', target: { keyId: 'k1', keyName: 'ci', role: 'user' } }, ctx).gatehouse.key)
      .toEqual({ id: 'k1', name: 'ci', role: 'user' })
    expect(buildEvent({ action: 'config-loaded', outcome: 'success', config: { hash: 'a'.repeat(64) } }, ctx).gatehouse.config)
      .toEqual({ hash: 'a'.repeat(64) })
    // a start names the configuration it replaced (null: none known); a value that is not a hash is not copied
    expect(buildEvent({ action: 'config-loaded', outcome: 'success', config: { hash: 'a'.repeat(64), previousHash: 'b'.repeat(64) } }, ctx).gatehouse.config)
      .toEqual({ hash: 'a'.repeat(64), previous_hash: 'b'.repeat(64) })
    expect(buildEvent({ action: 'config-loaded', outcome: 'success', config: { hash: 'a'.repeat(64), previousHash: null } }, ctx).gatehouse.config)
      .toEqual({ hash: 'a'.repeat(64), previous_hash: null })
    expect(buildEvent({ action: 'config-loaded', outcome: 'success', config: { hash: 'a'.repeat(64), previousHash: 'x y\n' } }, ctx).gatehouse.config)
      .toEqual({ hash: 'a'.repeat(64), previous_hash: 'invalid' })
    expect(buildEvent({ action: 'audit-sink-error', outcome: 'failure', sink: { type: 'syslog', dropped: 7, error: 'ECONNREFUSED' } }, ctx).gatehouse.sink)
      .toEqual({ type: 'syslog', dropped: 7, error: 'ECONNREFUSED' })
  })

  it('keeps source.ip only when it is an IP address, in plain form', () => {
    expect(buildEvent({ action: 'login', outcome: 'success', sourceIp: '::ffff:10.1.2.3' }, ctx).source).toEqual({ ip: '10.1.2.3' })
    expect(buildEvent({ action: 'login', outcome: 'success', sourceIp: '2001:DB8::1' }, ctx).source).toEqual({ ip: '2001:db8::1' })
    expect(buildEvent({ action: 'login', outcome: 'success', sourceIp: '1.2.3.4, 5.6.7.8' }, ctx).source).toBeUndefined()
  })

  it('refuses an unknown action', () => {
    expect(() => buildEvent({ action: 'nope' as AuditAction, outcome: 'success' }, ctx)).toThrow(TypeError)
  })
})
