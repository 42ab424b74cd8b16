// Sums of the usage records for `gatehouse usage report`, `GET /admin/usage` and the evidence
// bundle, and one identity's use against its quotas for `gatehouse usage quota`.
import type { QuotaRuleConfig } from '../config/schema.js'
import type { Store, UsageGroupBy } from '../store/types.js'
import { isoSeconds, limitsFor, periodWindow, type Metered, type QuotaPeriod } from './rules.js'

export const USAGE_BY: readonly UsageGroupBy[] = ['user', 'key', 'model', 'upstream', 'day']
export const DEFAULT_SINCE = '30d'
const DAY_MS = 86_400_000
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }

/** `30d`, `12h`, `2w`, `90m` → milliseconds (at most 10 years); null for anything else. */
export function parseSince (s: string): number | null {
  const m = /^([1-9][0-9]{0,5})([mhdw])$/.exec(s)
  if (m === null) return null
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number)
  return ms <= 3660 * DAY_MS ? ms : null
}

export const isUsageBy = (s: string): s is UsageGroupBy => (USAGE_BY as readonly string[]).includes(s)

export interface UsageRow { name: string | null, requests: number, inputTokens: number, outputTokens: number, totalTokens: number }

export interface UsageReport {
  since: string
  until: string
  by: UsageGroupBy
  rows: UsageRow[]
  total: Omit<UsageRow, 'name'>
}

export async function usageReport (
  store: Pick<Store, 'usageSummary'>, by: UsageGroupBy, sinceMs: number, now: number
): Promise<UsageReport> {
  const since = now - sinceMs
  const groups = await store.usageSummary(since, by)
  const rows = groups.map((g) => ({
    // a day is stored as its number since the epoch: shown as its UTC date
    name: by === 'day' && g.group !== null ? new Date(Number(g.group) * DAY_MS).toISOString().slice(0, 10) : g.group,
    requests: g.requests,
    inputTokens: g.inputTokens,
    outputTokens: g.outputTokens,
    totalTokens: g.inputTokens + g.outputTokens
  }))
  const total = rows.reduce((t, r) => ({
    requests: t.requests + r.requests,
    inputTokens: t.inputTokens + r.inputTokens,
    outputTokens: t.outputTokens + r.outputTokens,
    totalTokens: t.totalTokens + r.totalTokens
  }), { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 })
  return { since: isoSeconds(since), until: isoSeconds(now), by, rows, total }
}

const csvCell = (v: string | number | null): string => {
  const s = v === null ? '' : String(v)
  // quotes around anything a spreadsheet could misread; a leading formula character is defused
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
  return /[",\r\n']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export function usageCsv (r: UsageReport): string {
  const lines = [[r.by, 'requests', 'input_tokens', 'output_tokens', 'total_tokens'].join(',')]
  for (const row of r.rows) {
    lines.push([csvCell(row.name), row.requests, row.inputTokens, row.outputTokens, row.totalTokens].join(','))
  }
  return lines.join('\n')
}

export interface QuotaUse {
  period: QuotaPeriod
  tokens: number
  subject: string
  used: number
  remaining: number
  resetsAt: string
}

export interface QuotaStatus {
  name: string
  kind: 'user' | 'key'
  roles: string[]
  /** tokens used today and this month (UTC), whatever the quotas */
  used: Record<QuotaPeriod, number>
  quotas: QuotaUse[]
}

/** One identity's use (from the usage records) against every quota that applies to it. */
export async function quotaStatus (
  store: Pick<Store, 'usageOf'>, rules: readonly QuotaRuleConfig[], who: Metered, now: number
): Promise<QuotaStatus> {
  const used: Record<QuotaPeriod, number> = { day: 0, month: 0 }
  const ends: Record<QuotaPeriod, number> = { day: 0, month: 0 }
  for (const p of ['day', 'month'] as const) {
    const w = periodWindow(p, now)
    const g = await store.usageOf(who.credential, who.name, w.start)
    used[p] = g.inputTokens + g.outputTokens
    ends[p] = w.end
  }
  return {
    name: who.name,
    kind: who.credential === 'session' ? 'user' : 'key',
    roles: [...who.roles],
    used,
    quotas: limitsFor(rules, who).map((l) => ({
      ...l, used: used[l.period], remaining: Math.max(0, l.tokens - used[l.period]), resetsAt: isoSeconds(ends[l.period])
    }))
  }
}
