// Intrusion detection over the audit events: each rule counts what it watches in shared counters
// (so replicas count together), and the first time a count reaches its threshold for a subject in a
// window it raises one `intrusion-detected` alert (event.reason names the rule). Fed every event the
// audit emitter writes; alerts are themselves events, which the rules ignore.
import type { Clock } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { AuditInput } from '../audit/types.js'
import type { SharedState } from '../cluster-state/types.js'

export const DETECTION_RULES = [
  'password_spraying', 'credential_stuffing', 'totp_guessing', 'refusal_burst', 'revoked_key', 'new_source'
] as const
export type DetectionRule = (typeof DETECTION_RULES)[number]

export interface DetectorDeps {
  config: GatehouseConfig['detection']
  sharedState: SharedState
  clock: Clock
  /** writes the alert (the audit emitter) */
  emit: (e: AuditInput) => void
  /** told once per alert raised (metrics) */
  onDetection?: (rule: DetectionRule) => void
  /** a shared counter failed (Redis or the database away): the event goes uncounted */
  onError?: (err: unknown) => void
}

export interface Detector {
  /** looks at one audit event; counting runs in the background */
  observe: (e: AuditInput) => void
  /** resolves once every event observed so far has been counted */
  idle: () => Promise<void>
}

const LOGIN_FAILURES = new Set(['bad_password', 'unknown_user', 'disabled'])
const CODE_FAILURES = new Set(['wrong_code', 'malformed_code', 'replay', 'locked'])
const KEY_FAILURES = new Set(['key_revoked', 'key_expired'])
const DAY_MS = 86_400_000

// user names and addresses go into keys encoded, so no subject can collide with another's key
const part = (s: string) => encodeURIComponent(s)

export function createDetector (deps: DetectorDeps): Detector {
  const { config: c, sharedState: state, clock } = deps
  const pending = new Set<Promise<void>>()
  const key = (...parts: string[]) => 'det:' + parts.map(part).join(':')

  /** counts `subject` once per window: true the first time only */
  const first = async (k: string, windowMs: number, now: number) => (await state.hit(k, windowMs, now)).count === 1

  async function alert (rule: DetectionRule, windowSeconds: number, count: number,
    subject: Pick<AuditInput, 'userName' | 'sourceIp' | 'target'>, e: AuditInput, now: number): Promise<void> {
    // one alert per rule, subject and window, across replicas
    const who = `${subject.userName ?? ''}@${subject.sourceIp ?? ''}`
    if (!(await first(key('alert', rule, who), windowSeconds * 1000, now))) return
    // the request and source of the event that raised it, for the investigation; the subject says who
    const from = {
      ...(e.sourceIp !== undefined ? { sourceIp: e.sourceIp } : {}),
      ...(e.requestId !== undefined ? { requestId: e.requestId } : {})
    }
    deps.emit({ action: 'intrusion-detected', outcome: 'success', reason: rule, ...from, ...subject, detection: { count, windowSeconds } })
    deps.onDetection?.(rule)
  }

  /** counts distinct `member`s of `group` in the window; alerts when they reach `threshold` */
  async function distinct (rule: DetectionRule, group: string, member: string, threshold: number, windowSeconds: number,
    subject: Pick<AuditInput, 'userName' | 'sourceIp'>, e: AuditInput, now: number): Promise<void> {
    const ms = windowSeconds * 1000
    if (!(await first(key(rule, 'm', group, member), ms, now))) return
    const n = (await state.hit(key(rule, group), ms, now)).count
    if (n >= threshold) await alert(rule, windowSeconds, n, subject, e, now)
  }

  async function count (rule: DetectionRule, subjectKey: string, threshold: number, windowSeconds: number,
    subject: Pick<AuditInput, 'userName' | 'sourceIp'>, e: AuditInput, now: number): Promise<void> {
    const n = (await state.hit(key(rule, subjectKey), windowSeconds * 1000, now)).count
    if (n >= threshold) await alert(rule, windowSeconds, n, subject, e, now)
  }

  /** seen within the current or the previous period: a source used at least once a period is never forgotten */
  async function seenBefore (kind: string, user: string, source: string, now: number): Promise<boolean> {
    const period = c.newSource.rememberDays * DAY_MS
    const bucket = Math.floor(now / period)
    const cur = await state.hit(key('new_source', kind, String(bucket), user, source), 2 * period, now)
    const prev = await state.hit(key('new_source', kind, String(bucket - 1), user, source), 2 * period, now)
    return cur.count > 1 || prev.count > 1
  }

  async function run (e: AuditInput, now: number): Promise<void> {
    const ip = e.sourceIp
    const user = e.userName
    if (e.action === 'login' && e.outcome === 'failure' && LOGIN_FAILURES.has(e.reason ?? '') && ip !== undefined && user !== undefined) {
      const ps = c.passwordSpraying
      const cs = c.credentialStuffing
      await distinct('password_spraying', ip, user, ps.distinctUsers, ps.windowSeconds, { sourceIp: ip }, e, now)
      await distinct('credential_stuffing', user, ip, cs.distinctSources, cs.windowSeconds, { userName: user }, e, now)
    } else if ((e.action === 'mfa-verify' || e.action === 'mfa-enroll') && e.outcome === 'failure' &&
      CODE_FAILURES.has(e.reason ?? '') && user !== undefined) {
      await count('totp_guessing', user, c.totpGuessing.failures, c.totpGuessing.windowSeconds, { userName: user }, e, now)
    } else if ((e.action === 'access-denied' || e.action === 'model-request') && user !== undefined &&
      (e.request?.status === 403 || e.request?.status === 404)) {
      await count('refusal_burst', user, c.refusalBurst.refusals, c.refusalBurst.windowSeconds, { userName: user }, e, now)
    } else if (e.action === 'token-rejected' && c.revokedKey.enabled && KEY_FAILURES.has(e.reason ?? '')) {
      // the key (when the event names it) is part of what the alert says, not of its subject
      await alert('revoked_key', c.revokedKey.windowSeconds, 1,
        { ...(ip !== undefined ? { sourceIp: ip } : {}), ...(e.target !== undefined ? { target: e.target } : {}) }, e, now)
    } else if (e.action === 'login' && e.outcome === 'success' && c.newSource.enabled && ip !== undefined && user !== undefined) {
      // a user's first login ever (within memory) has no usual source to differ from
      const known = await seenBefore('user', user, '', now)
      const seen = await seenBefore('source', user, ip, now)
      if (known && !seen) await alert('new_source', c.newSource.rememberDays * 86_400, 1, { userName: user, sourceIp: ip }, e, now)
    }
  }

  return {
    observe (e) {
      if (!c.enabled || e.action === 'intrusion-detected') return
      const p: Promise<void> = run(e, clock.now()).catch((err: unknown) => { deps.onError?.(err) })
        .finally(() => { pending.delete(p) })
      pending.add(p)
    },
    async idle () {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
