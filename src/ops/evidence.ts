// `gatehouse evidence export`: one JSON bundle an auditor can keep — access review (users, roles,
// last login), API keys and their ages, the configuration (secrets redacted) and its hash, audit
// statistics for the period, tokens used by user and key, the chain verification and the compliance check results.
import { createHash } from 'node:crypto'
import { writeFileSync, chmodSync, readFileSync, renameSync, statSync } from 'node:fs'
import { mfaRequired } from '../auth/mfa-policy.js'
import { apiKeyStatus } from '../auth/api-keys.js'
import type { GatehouseConfig, SinkConfig } from '../config/schema.js'
import { configHash, redactedConfig } from '../config/load.js'
import type { Store } from '../store/types.js'
import { complianceReport, type ComplianceReport } from './compliance.js'
import { collectComplianceInput, type CollectOptions } from './compliance-input.js'
import { auditFilesOf, readAuditStatistics, type AuditStatistics } from './audit-stats.js'
import { latestPerTarget, type SbomFacts, type ScanSummary } from './dependency-scan.js'
import { readScanFacts, readSbom } from './scan-files.js'
import { usageReport, type UsageReport } from '../quotas/report.js'

const DAY = 86_400_000

export interface EvidenceBundle {
  kind: 'gatehouse-evidence'
  version: 1
  generatedAt: string
  period: { days: number, from: string, to: string }
  accessReview: {
    users: Array<{ username: string, roles: string[], status: string, mfaEnrolled: boolean, lastLoginAt: string | null, createdAt: string,
      daysSinceLastUse: number }>
    roles: Record<string, { permissions: string[], models: string[], mfaRequired: boolean, users: string[], keys: string[] }>
  }
  apiKeys: Array<{ id: string, name: string, role: string, prefix: string, status: 'active' | 'expired' | 'revoked', createdAt: string,
    ageDays: number, expiresAt: string | null, lastUsedAt: string | null, revokedAt: string | null }>
  configuration: {
    file: string | null
    hash: string
    redacted: GatehouseConfig
    /** config-loaded events over the whole audit log, oldest first: each hash with the one loaded before it */
    history: AuditStatistics['configChain'] | null
  }
  audit: { statistics: AuditStatistics | null, chain: ComplianceReport['checks'][number] | null }
  vulnerabilityManagement: {
    scanDir: string
    /** every recorded scan in the period, oldest first */
    scans: ScanSummary[]
    /** the newest scan of each target, as recorded */
    latest: Array<{ summary: ScanSummary, document: unknown }>
    sbom: { facts: SbomFacts, document: unknown } | null
  }
  monitoring: {
    alertRules: { file: string, sha256: string, content: string } | { file: string, error: string }
    /** intrusion-detection alerts in the audit files for the period, by rule (null: no file sink) */
    detections: { total: number, byRule: Record<string, number> } | null
  }
  retention: {
    /** disposal: rotated audit files past auditRetentionDays (null: kept forever); ended sessions, retired keys past the purge window */
    settings: { auditRetentionDays: number | null, storePurgeAfterDays: number }
    /** the audit files on disk at export time */
    auditFiles: Array<{ path: string, maxBytes: number, files: number, bytes: number, oldest: string | null }>
    sessions: { sessionTtlSeconds: number, idleTimeoutSeconds: number }
  }
  /** tokens used in the period by user and by key (the store's usage records); null when the store cannot say */
  usage: { byUser: UsageReport, byKey: UsageReport, quotas: GatehouseConfig['quotas']['rules'], retentionDays: number } | null
  compliance: ComplianceReport
}

/** The store the bundle reads: the usage sums are optional so a store without usage records still exports. */
export type EvidenceStore = Pick<Store, 'listUsers' | 'listApiKeys'> & Partial<Pick<Store, 'usageSummary'>>

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString())
const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message

function alertRules (file: string): EvidenceBundle['monitoring']['alertRules'] {
  try {
    const bytes = readFileSync(file)
    return { file, sha256: createHash('sha256').update(bytes).digest('hex'), content: bytes.toString('utf8') }
  } catch (err) { return { file, error: code(err) } }
}

function vulnerabilityManagement (config: GatehouseConfig, from: number): EvidenceBundle['vulnerabilityManagement'] {
  const dir = config.compliance.scanDir
  const facts = readScanFacts(dir)
  const latest = latestPerTarget(facts.scans).map((summary) => {
    let document: unknown = null
    try { document = JSON.parse(readFileSync(summary.file, 'utf8')) } catch { /* removed since it was read */ }
    return { summary, document }
  })
  return {
    scanDir: dir,
    scans: facts.scans.filter((s) => Date.parse(s.scannedAt) >= from).sort((a, b) => a.scannedAt.localeCompare(b.scannedAt)),
    latest,
    sbom: readSbom(dir)
  }
}

function retention (config: GatehouseConfig): EvidenceBundle['retention'] {
  const auditFiles = config.audit.sinks.filter((s): s is Extract<SinkConfig, { type: 'file' }> => s.type === 'file').map((s) => {
    const files = auditFilesOf(s.path)
    const bytes = files.reduce((n, f) => { try { return n + statSync(f).size } catch { return n } }, 0)
    return { path: s.path, maxBytes: s.maxBytes, files: files.length, bytes, oldest: files[0] ?? null }
  })
  return { settings: { auditRetentionDays: config.audit.retentionDays, storePurgeAfterDays: config.store.purgeAfterDays },
    auditFiles, sessions: { sessionTtlSeconds: config.auth.sessionTtlSeconds, idleTimeoutSeconds: config.auth.idleTimeoutSeconds } }
}
const days = (from: number, to: number) => Math.floor((to - from) / DAY)

async function buildEvidence (config: GatehouseConfig, store: EvidenceStore,
  options: CollectOptions & { days: number }): Promise<EvidenceBundle> {
  const { now } = options
  const from = now - options.days * DAY
  const input = await collectComplianceInput(config, store, options)
  const report = complianceReport(input)
  const fileSink = config.audit.sinks.find((s): s is Extract<SinkConfig, { type: 'file' }> => s.type === 'file')
  const statistics = fileSink ? await readAuditStatistics(auditFilesOf(fileSink.path), { from, to: now }) : null

  const summary = store.usageSummary?.bind(store)
  const usage = summary === undefined ? null : {
    byUser: await usageReport({ usageSummary: summary }, 'user', options.days * DAY, now),
    byKey: await usageReport({ usageSummary: summary }, 'key', options.days * DAY, now),
    quotas: config.quotas.rules,
    retentionDays: config.usage.retentionDays
  }

  const roles: EvidenceBundle['accessReview']['roles'] = {}
  for (const [name, r] of Object.entries(config.rbac.roles)) {
    roles[name] = {
      permissions: [...r.permissions], models: [...r.models], mfaRequired: mfaRequired([name], config.auth.mfa.requiredForRoles),
      users: input.users.filter((u) => u.roles.includes(name)).map((u) => u.username),
      keys: input.keys.filter((k) => k.role === name && k.revokedAt === null).map((k) => k.name)
    }
  }

  return {
    kind: 'gatehouse-evidence',
    version: 1,
    generatedAt: new Date(now).toISOString(),
    period: { days: options.days, from: new Date(from).toISOString(), to: new Date(now).toISOString() },
    accessReview: {
      users: input.users.map((u) => ({
        username: u.username, roles: [...u.roles], status: u.status, mfaEnrolled: u.totpEnrolled,
        lastLoginAt: iso(u.lastLoginAt), createdAt: new Date(u.createdAt).toISOString(),
          daysSinceLastUse: days(u.lastLoginAt ?? u.createdAt, now)
      })),
      roles
    },
    apiKeys: input.keys.map((k) => ({
      id: k.id, name: k.name, role: k.role, prefix: k.prefix,
      status: apiKeyStatus(k, now),
      createdAt: new Date(k.createdAt).toISOString(), ageDays: days(k.createdAt, now),
      expiresAt: iso(k.expiresAt), lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt)
    })),
    configuration: {
      file: config.configFile, hash: configHash(config), redacted: redactedConfig(config), history: statistics?.configChain ?? null
    },
    audit: { statistics, chain: report.checks.find((c) => c.id === 'audit-chain') ?? null },
    vulnerabilityManagement: vulnerabilityManagement(config, from),
    monitoring: {
      alertRules: alertRules(config.compliance.alertRulesFile),
      detections: statistics === null ? null
        : { total: Object.values(statistics.detections).reduce((a, b) => a + b, 0), byRule: { ...statistics.detections } }
    },
    retention: retention(config),
    usage,
    compliance: report
  }
}

/** Writes the bundle readable by its owner only (0600), replacing any earlier file atomically. */
function writeEvidence (file: string, bundle: EvidenceBundle): void {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(bundle, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}

export async function exportEvidence (config: GatehouseConfig, store: EvidenceStore,
  options: CollectOptions & { days: number, out: string }): Promise<EvidenceBundle> {
  const bundle = await buildEvidence(config, store, options)
  writeEvidence(options.out, bundle)
  return bundle
}
