// `gatehouse usage report` and `gatehouse usage quota`: read the usage records in the store.
import { errors } from '../errors.js'
import type { GatehouseConfig } from '../config/schema.js'
import { createStore } from '../store/index.js'
import type { StoreBackend } from '../store/types.js'
import { systemClock, type Clock } from '../clock.js'
import { canonicalUsername } from '../auth/usernames.js'
import {
  DEFAULT_SINCE, USAGE_BY, isUsageBy, parseSince, quotaStatus, usageCsv, usageReport, type Metered, type QuotaStatus, type UsageReport
} from '../quotas/index.js'
import type { CommandHandler } from './types.js'
import { table, type Io } from './output.js'

export interface UsageCommandDeps {
  openStore: (config: GatehouseConfig) => Promise<StoreBackend>
  clock: Clock
}

const defaultDeps: UsageCommandDeps = { openStore: async (config) => await createStore(config.store.url), clock: systemClock }

async function withStore<T> (deps: UsageCommandDeps, config: GatehouseConfig, fn: (s: StoreBackend) => Promise<T>): Promise<T> {
  const store = await deps.openStore(config)
  try { return await fn(store) } finally { await store.close().catch(() => {}) }
}

function renderReport (r: UsageReport): string {
  const rows = [...r.rows, { name: 'TOTAL', ...r.total }]
  return `token usage by ${r.by} from ${r.since} to ${r.until}\n` + table(rows.map((x) => ({
    [r.by]: x.name, requests: x.requests, input: x.inputTokens, output: x.outputTokens, total: x.totalTokens
  })), [r.by, 'requests', 'input', 'output', 'total'])
}

function renderQuota (q: QuotaStatus): string {
  const head = `${q.kind} ${q.name} (roles ${q.roles.join(', ') || '-'}): ${q.used.day} tokens today, ${q.used.month} this month (UTC)`
  if (q.quotas.length === 0) return `${head}\nno quota applies`
  return head + '\n' + table(q.quotas.map((x) => ({
    period: x.period, limit: x.tokens, rule: x.subject, used: x.used, remaining: x.remaining, resets: x.resetsAt
  })), ['period', 'limit', 'rule', 'used', 'remaining', 'resets'])
}

/** NAME as a user (canonical form) or, failing that, a key name; a name that is neither is a finding (exit 1). */
async function meteredOf (store: StoreBackend, name: string): Promise<Metered | null> {
  const user = await store.getUser(canonicalUsername(name))
  if (user !== null) return { credential: 'session', name: user.username, roles: user.roles }
  const keys = (await store.listApiKeys()).filter((k) => k.name === name)
  const latest = keys.at(-1)
  return latest === undefined ? null : { credential: 'api_key', name, roles: [latest.role] }
}

function createUsageCommands (deps: UsageCommandDeps = defaultDeps): Record<string, CommandHandler> {
  return {
    'usage report': async (config, args, io: Io) => {
      if (args.command.length > 2) throw new errors.USAGE('usage report takes no positional arguments')
      const since = args.since ?? DEFAULT_SINCE
      const sinceMs = parseSince(since)
      if (sinceMs === null) throw new errors.USAGE(`--since "${since}" is not a period such as 30d, 12h, 2w or 90m`)
      const by = args.by ?? 'user'
      if (!isUsageBy(by)) throw new errors.USAGE(`--by "${by}" is not one of ${USAGE_BY.join(', ')}`)
      if (args.json && args.csv) throw new errors.USAGE('--json and --csv exclude each other')
      const report = await withStore(deps, config, (store) => usageReport(store, by, sinceMs, deps.clock.now()))
      io.out(args.json ? JSON.stringify(report) : args.csv ? usageCsv(report) : renderReport(report))
      return 0
    },
    'usage quota': async (config, args, io: Io) => {
      const name = args.command[2]
      if (name === undefined || name === '') throw new errors.USAGE('missing NAME')
      if (args.command.length > 3) throw new errors.USAGE(`unexpected argument "${args.command[3] as string}"`)
      const status = await withStore(deps, config, async (store) => {
        const who = await meteredOf(store, name)
        return who === null ? null : await quotaStatus(store, config.quotas.rules, who, deps.clock.now())
      })
      if (status === null) {
        io.err(`gatehouse: no user or key named "${name}"`)
        return 1
      }
      io.out(args.json ? JSON.stringify(status) : renderQuota(status))
      return 0
    }
  }
}

export const usageCommands: Record<string, CommandHandler> = createUsageCommands()
