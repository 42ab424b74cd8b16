// Which token quotas apply to an identity, the UTC day or month a count belongs to, and the words
// of a refusal. Pure: the time is passed in.
import type { QuotaRuleConfig } from '../config/schema.js'

export type QuotaPeriod = 'day' | 'month'
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['day', 'month']

/** Who is counted: a user by name, or an API key by its name (a rotated key's successor shares it). */
export interface Metered { credential: 'session' | 'api_key', name: string, roles: readonly string[] }

/** Who a budget belongs to: a key by its name; anyone else (a session, an IdP token) as the user. */
export function meteredOf (id: { credential: string, name: string, roles: readonly string[] }): Metered {
  return { credential: id.credential === 'api_key' ? 'api_key' : 'session', name: id.name, roles: id.roles }
}

export interface QuotaLimit {
  period: QuotaPeriod
  tokens: number
  /** what the rule names, as a refusal says it: `role user`, `user alice`, `key ci-bot` */
  subject: string
}

/** Every limit of every rule that matches: a rule names a role the identity has, its user name, or its key name. */
export function limitsFor (rules: readonly QuotaRuleConfig[], who: Metered): QuotaLimit[] {
  const out: QuotaLimit[] = []
  for (const r of rules) {
    let subject: string | null = null
    if (r.role !== undefined && who.roles.includes(r.role)) subject = `role ${r.role}`
    else if (r.user !== undefined && who.credential === 'session' && r.user === who.name) subject = `user ${r.user}`
    else if (r.key !== undefined && who.credential === 'api_key' && r.key === who.name) subject = `key ${r.key}`
    if (subject === null) continue
    if (r.tokensPerDay !== undefined) out.push({ period: 'day', tokens: r.tokensPerDay, subject })
    if (r.tokensPerMonth !== undefined) out.push({ period: 'month', tokens: r.tokensPerMonth, subject })
  }
  return out
}

export interface PeriodWindow {
  /** `2026-12-07` for a day, `2026-12` for a month */
  id: string
  start: number
  /** the first millisecond of the next period: when the count resets */
  end: number
}

/** The UTC day or month that `now` falls in. */
export function periodWindow (period: QuotaPeriod, now: number): PeriodWindow {
  const d = new Date(now)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  if (period === 'day') {
    const start = Date.UTC(y, m, d.getUTCDate())
    return { id: new Date(start).toISOString().slice(0, 10), start, end: start + 86_400_000 }
  }
  const start = Date.UTC(y, m, 1)
  return { id: new Date(start).toISOString().slice(0, 7), start, end: Date.UTC(y, m + 1, 1) }
}

/** The shared counter of one identity for one period: kinds apart, so a user and a key of the same name never share. */
export function counterKey (who: Pick<Metered, 'credential' | 'name'>, period: QuotaPeriod, window: PeriodWindow): string {
  return `quota:${period}:${who.credential === 'session' ? 'user' : 'key'}:${who.name}:${window.id}`
}

/** `2026-12-08T00:00:00Z`: the reset time without milliseconds */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

export function quotaMessage (limit: QuotaLimit, resetsAt: number): string {
  return `token quota exceeded: ${limit.tokens} tokens per ${limit.period} (${limit.subject}); resets at ${isoSeconds(resetsAt)}`
}

/** The first limit reached (used >= tokens), or null; `used` holds each period's total. */
export function firstExceeded (limits: readonly QuotaLimit[], used: Readonly<Record<QuotaPeriod, number>>): QuotaLimit | null {
  return limits.find((l) => used[l.period] >= l.tokens) ?? null
}
