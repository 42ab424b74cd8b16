import { describe, expect, it } from 'vitest'
import { buildConfig } from '../../../src/config/load.js'
import { createDetector } from '../../../src/detection/detector.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import type { AuditInput } from '../../../src/audit/types.js'
import { manualClock } from '../../helpers/clock.js'

function setup (detection: Record<string, unknown> = {}, shared = createSharedState({ backend: 'memory' })) {
  const config = buildConfig({ detection }, '/tmp').detection
  const clock = manualClock()
  const alerts: AuditInput[] = []
  const rules: string[] = []
  const detector = createDetector({ config, sharedState: shared, clock, emit: (e) => alerts.push(e), onDetection: (r) => rules.push(r) })
  const feed = async (...events: AuditInput[]) => { for (const e of events) detector.observe(e); await detector.idle() }
  return { detector, clock, alerts, rules, feed, shared }
}

const loginFail = (userName: string, sourceIp: string, reason = 'bad_password'): AuditInput =>
  ({ action: 'login', outcome: 'failure', userName, sourceIp, reason })
const denied = (userName: string, status: number): AuditInput => ({
  action: 'access-denied', outcome: 'failure', userName, sourceIp: '10.0.0.9',
  request: { method: 'POST', path: '/api/chat', status, durationNs: 1, decision: 'deny' }
})

describe('detection rules', () => {
  it('password spraying: distinct user names failing from one source reach the threshold and raise one alert', async () => {
    const t = setup({ passwordSpraying: { distinctUsers: 3, windowSeconds: 60 } })
    await t.feed(loginFail('a', '198.51.100.1'), loginFail('a', '198.51.100.1'), loginFail('b', '198.51.100.1'))
    expect(t.alerts).toEqual([])
    await t.feed(loginFail('c', '198.51.100.1', 'unknown_user'), loginFail('d', '198.51.100.1'))
    const spray = t.alerts.filter((a) => a.reason === 'password_spraying')
    expect(spray).toHaveLength(1)
    expect(spray[0]).toMatchObject({ action: 'intrusion-detected', sourceIp: '198.51.100.1', detection: { count: 3, windowSeconds: 60 } })
    expect(t.rules).toEqual(['password_spraying'])
  })

  it('password spraying: failures spread over more than the window do not add up', async () => {
    const t = setup({ passwordSpraying: { distinctUsers: 3, windowSeconds: 60 } })
    await t.feed(loginFail('a', '198.51.100.1'), loginFail('b', '198.51.100.1'))
    t.clock.advance(61_000)
    await t.feed(loginFail('c', '198.51.100.1'))
    expect(t.alerts).toEqual([])
  })

  it('credential stuffing: distinct sources failing against one account raise one alert naming the account', async () => {
    const t = setup({ credentialStuffing: { distinctSources: 3, windowSeconds: 600 } })
    for (let i = 1; i <= 6; i++) await t.feed(loginFail('alice', `203.0.113.${i}`))
    const stuffing = t.alerts.filter((a) => a.reason === 'credential_stuffing')
    expect(stuffing).toEqual([expect.objectContaining({ userName: 'alice', detection: { count: 3, windowSeconds: 600 } })])
  })

  it('TOTP guessing: repeated wrong codes for one account raise one alert per window', async () => {
    const t = setup({ totpGuessing: { failures: 3, windowSeconds: 300 } })
    const wrong: AuditInput = { action: 'mfa-verify', outcome: 'failure', userName: 'bob', sourceIp: '192.0.2.1', reason: 'wrong_code' }
    await t.feed(wrong, wrong, { ...wrong, reason: 'mfa_token_stale' })
    expect(t.alerts).toEqual([])
    await t.feed(wrong, wrong, wrong)
    expect(t.alerts.map((a) => [a.reason, a.userName])).toEqual([['totp_guessing', 'bob']])
    t.clock.advance(301_000)
    await t.feed(wrong, wrong, wrong)
    expect(t.alerts).toHaveLength(2)
  })

  it('refusal burst: 403/404 answers to one identity are counted, other statuses are not', async () => {
    const t = setup({ refusalBurst: { refusals: 4, windowSeconds: 60 } })
    await t.feed(denied('probe', 403), denied('probe', 404), denied('probe', 429), denied('probe', 401), denied('probe', 403))
    expect(t.alerts).toEqual([])
    await t.feed(denied('probe', 404), denied('probe', 404))
    expect(t.alerts).toEqual([expect.objectContaining({ reason: 'refusal_burst', userName: 'probe', detection: { count: 4, windowSeconds: 60 } })])
  })

  it('revoked key: a revoked or expired key raises an alert at once, one per source and window; an unknown key does not', async () => {
    const t = setup({ revokedKey: { windowSeconds: 600 } })
    const rejected = (reason: string, sourceIp = '192.0.2.7'): AuditInput => ({ action: 'token-rejected', outcome: 'failure', sourceIp, reason })
    await t.feed(rejected('unknown_key'), rejected('malformed_key'))
    expect(t.alerts).toEqual([])
    await t.feed(rejected('key_revoked'), rejected('key_expired'), rejected('key_revoked', '192.0.2.8'))
    expect(t.alerts.map((a) => [a.reason, a.sourceIp])).toEqual([['revoked_key', '192.0.2.7'], ['revoked_key', '192.0.2.8']])
  })

  it('revoked key: the rule can be turned off', async () => {
    const t = setup({ revokedKey: { enabled: false } })
    await t.feed({ action: 'token-rejected', outcome: 'failure', sourceIp: '192.0.2.7', reason: 'key_revoked' })
    expect(t.alerts).toEqual([])
  })

  it('new source: off by default; when on, a login from a source never seen for that user raises one alert', async () => {
    const ok = (userName: string, sourceIp: string): AuditInput => ({ action: 'login', outcome: 'success', userName, sourceIp })
    const off = setup()
    await off.feed(ok('carol', '10.1.1.1'), ok('carol', '10.9.9.9'))
    expect(off.alerts).toEqual([])

    const t = setup({ newSource: { enabled: true, rememberDays: 30 } })
    // the first login ever has nothing to differ from
    await t.feed(ok('carol', '10.1.1.1'), ok('carol', '10.1.1.1'), ok('dave', '10.9.9.9'))
    expect(t.alerts).toEqual([])
    await t.feed(ok('carol', '10.9.9.9'), ok('carol', '10.9.9.9'))
    expect(t.alerts).toEqual([expect.objectContaining({ reason: 'new_source', userName: 'carol', sourceIp: '10.9.9.9' })])
  })

  it('new source: a source used every period is remembered; one unused for over two periods is forgotten', async () => {
    const ok: AuditInput = { action: 'login', outcome: 'success', userName: 'carol', sourceIp: '10.1.1.1' }
    const t = setup({ newSource: { enabled: true, rememberDays: 1 } })
    await t.feed(ok, { ...ok, sourceIp: '10.2.2.2' })
    t.alerts.length = 0
    for (let day = 0; day < 5; day++) {
      t.clock.advance(86_400_000)
      await t.feed(ok)
    }
    expect(t.alerts).toEqual([])
    await t.feed({ ...ok, sourceIp: '10.2.2.2' })
    expect(t.alerts).toEqual([expect.objectContaining({ reason: 'new_source', sourceIp: '10.2.2.2' })])
  })

  it('no alert flood: two detectors sharing counters (two replicas) raise a burst\'s alert once', async () => {
    const shared = createSharedState({ backend: 'memory' })
    const a = setup({ refusalBurst: { refusals: 3, windowSeconds: 60 } }, shared)
    const b = setup({ refusalBurst: { refusals: 3, windowSeconds: 60 } }, shared)
    for (let i = 0; i < 10; i++) await (i % 2 === 0 ? a : b).feed(denied('probe', 403))
    expect([...a.alerts, ...b.alerts]).toHaveLength(1)
  })

  it('detection.enabled: false turns every rule off', async () => {
    const t = setup({ enabled: false })
    for (let i = 0; i < 40; i++) await t.feed(denied('probe', 403), loginFail(`u${i}`, '198.51.100.1'))
    expect(t.alerts).toEqual([])
  })
})
