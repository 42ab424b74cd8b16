// `gatehouse compliance check` and `gatehouse evidence export`.
// Exit codes: 0 compliant / written, 1 non-compliant, 2 bad usage or config, 3 (compliance check
// --notify) the report could not be delivered to the webhook.
import { errors } from '../errors.js'
import { dirname } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import type { GatehouseConfig } from '../config/schema.js'
import { createStore } from '../store/index.js'
import { redactedConfig } from '../config/load.js'
import type { Store } from '../store/types.js'
import { systemClock, type Clock } from '../clock.js'
import { complianceReport, type ComplianceReport } from '../ops/compliance.js'
import { collectComplianceInput } from '../ops/compliance-input.js'
import { exportEvidence, type EvidenceStore } from '../ops/evidence.js'
import { recordFromNpmAudit } from '../ops/dependency-scan.js'
import { deliverWebhook, isWebhookUrl, webhookMessage } from '../ops/compliance-notify.js'
import { complianceWebhookFromEnv } from '../config/notify-env.js'
import { writeScanRecord } from '../ops/scan-files.js'
import type { CommandHandler, ParsedArgs } from './types.js'
import type { Io } from './output.js'
import { repositoryExposure } from './git-guard.js'

export interface OpsCommandDeps {
  /** opens the configured store; closed by the command when done */
  openStore: (config: GatehouseConfig) => Promise<EvidenceStore & Pick<Store, 'close'>>
  clock: Clock
  /** where compliance.notifyUrlEnv is looked up (the process environment by default) */
  env?: NodeJS.ProcessEnv
  /** how long a webhook delivery may take (default 10 s) */
  notifyTimeoutMs?: number
}

/** `compliance check --notify`: the report could not be delivered (the check itself ran). */
export const EXIT_NOT_DELIVERED = 3

const defaultDeps: OpsCommandDeps = {
  openStore: (config) => createStore(config.store.url),
  clock: systemClock
}

/** Why a connection failed, in one line: Node's AggregateError (every address of a name refused) has an empty message. */
function reasonOf (err: unknown): string {
  const e = err as { message?: string, code?: string, errors?: unknown[], cause?: unknown }
  // a lost server is raised as the 503 the gateway answers with; its cause says why
  if (e.code === 'GH_ERR_STORE_UNAVAILABLE' && e.cause !== undefined) return reasonOf(e.cause)
  if (Array.isArray(e.errors) && e.errors.length > 0) return [...new Set(e.errors.map(reasonOf))].join(', ')
  const message = (e.message ?? String(err)).split('\n')[0] as string
  return message || e.code || 'unknown error'
}

/** The store's URL without any password in it (there should be none: it comes from PGPASSWORD). */
function shownStoreUrl (url: string): string {
  return redactedConfig({ store: { url }, redis: { url: null } } as GatehouseConfig).store.url
}

async function withStore<T> (deps: OpsCommandDeps, config: GatehouseConfig,
  fn: (store: EvidenceStore) => Promise<T>): Promise<T> {
  let store: Awaited<ReturnType<OpsCommandDeps['openStore']>>
  try {
    store = await deps.openStore(config)
  } catch (err) {
    throw new errors.STORE(`cannot open the store ${shownStoreUrl(config.store.url)}: ${reasonOf(err)}`)
  }
  try { return await fn(store) } finally { await store.close().catch(() => {}) }
}

function renderReport (r: ComplianceReport): string {
  const lines: string[] = [`Gatehouse SOC 2 compliance check — ${r.generatedAt}`,
    `config ${r.configFile ?? '(defaults)'}  sha256 ${r.configHash}`, '']
  const idWidth = Math.max(...r.checks.map((c) => c.id.length))
  for (const c of r.checks) {
    lines.push(`${c.verdict.toUpperCase().padEnd(4)}  ${c.control.padEnd(5)}  ${c.id.padEnd(idWidth)}  ${c.title}`)
    lines.push(`      ${' '.repeat(7 + idWidth)}  ${c.detail}`)
    lines.push(`      ${' '.repeat(7 + idWidth)}  evidence: ${JSON.stringify(c.evidence)}`)
  }
  const s = r.summary
  lines.push('', `${r.compliant ? 'COMPLIANT' : 'NOT COMPLIANT'}: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn, ${s.info} info`)
  return lines.join('\n')
}

function parseDays (args: ParsedArgs): number {
  if (args.days === undefined) throw new errors.USAGE('evidence export: --days N is required')
  if (!/^\d+$/.test(args.days) || Number(args.days) < 1 || Number(args.days) > 3660) {
    throw new errors.USAGE('evidence export: --days must be a whole number from 1 to 3660')
  }
  return Number(args.days)
}

export function createOpsCommands (deps: OpsCommandDeps = defaultDeps): Record<string, CommandHandler> {
  return {
    'compliance check': async (config, args, io: Io) => {
      if (args.command.length > 2) throw new errors.USAGE('compliance check takes no arguments')
      const url = args.notify !== undefined && args.notify !== '' ? args.notify : complianceWebhookFromEnv(config, deps.env)
      if (url !== null && !isWebhookUrl(url)) {
        const source = args.notify !== undefined ? '--notify' : config.compliance.notifyUrlEnv
        throw new errors.USAGE(`compliance check: the webhook URL (${source}) is not an http(s) URL`)
      }
      const report = await withStore(deps, config, async (store) =>
        complianceReport(await collectComplianceInput(config, store, { now: deps.clock.now() })))
      io.out(args.json ? JSON.stringify(report) : renderReport(report))
      if (url !== null) {
        const sent = await deliverWebhook(url, webhookMessage(report), deps.notifyTimeoutMs ?? 10_000)
        if (!sent.ok) {
          io.err(`gatehouse: the compliance report was NOT delivered to the webhook: ${sent.error}`)
          return EXIT_NOT_DELIVERED
        }
        io.err(`gatehouse: compliance report delivered to the webhook (HTTP ${sent.status})`)
      }
      return report.compliant ? 0 : 1
    },
    'evidence export': async (config, args, io: Io) => {
      if (args.command.length > 2) throw new errors.USAGE('evidence export takes no positional arguments')
      const days = parseDays(args)
      if (!args.out) throw new errors.USAGE('evidence export: --out FILE is required')
      if (!existsSync(dirname(args.out))) throw new errors.USAGE(`evidence export: folder ${dirname(args.out)} does not exist`)
      const exposure = args.force ? null : repositoryExposure(args.out)
      if (exposure) {
        throw new errors.USAGE(`evidence export: ${exposure}; ` +
          'the bundle holds user data: write it outside the repository, add it to .gitignore, or pass --force')
      }
      const bundle = await withStore(deps, config, (store) =>
        exportEvidence(config, store, { now: deps.clock.now(), days, out: args.out as string }))
      const c = bundle.compliance
      const summary = {
        out: args.out, generatedAt: bundle.generatedAt, period: bundle.period, users: bundle.accessReview.users.length,
        apiKeys: bundle.apiKeys.length, auditEvents: bundle.audit.statistics?.events ?? null, compliant: c.compliant, summary: c.summary
      }
      io.out(args.json
        ? JSON.stringify(summary)
        : `wrote ${args.out} (mode 0600): ${summary.users} user(s), ${summary.apiKeys} key(s), ` +
          `${summary.auditEvents ?? 'no'} audit event(s) in ${days} day(s); ` +
          `compliance ${c.compliant ? 'COMPLIANT' : 'NOT COMPLIANT'} (${c.summary.fail} fail, ${c.summary.warn} warn)`)
      return 0
    },
    // `npm audit --omit=dev --json | gatehouse scan record`: npm exits 1 when it finds something, so the report comes on stdin or from FILE
    'scan record': async (config, args, io: Io) => {
      if (args.command.length > 3) {
        throw new errors.USAGE('scan record takes at most one FILE (npm audit --json output; stdin when absent or -)')
      }
      const from = args.command[2]
      const text = from === undefined || from === '-' ? await io.readStdin() : readFileSync(from, 'utf8')
      let report: unknown
      try {
        report = JSON.parse(text)
      } catch {
        throw new errors.USAGE('scan record: the input is not JSON (expected npm audit --json output)')
      }
      const record = recordFromNpmAudit(report, deps.clock.now())
      const file = writeScanRecord(config.compliance.scanDir, record)
      const c = record.counts
      io.out(args.json
        ? JSON.stringify({ file, scannedAt: record.scannedAt, counts: c })
        : `recorded ${file}: ${c.critical} critical, ${c.high} high, ${c.moderate} moderate, ${c.low} low`)
      return 0
    }
  }
}

export const opsCommands: Record<string, CommandHandler> = createOpsCommands()
