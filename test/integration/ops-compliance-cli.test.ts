// `gatehouse compliance check` and `gatehouse evidence export` end to end: the production example
// config laid out in a temp folder, a real SQLite store, a real chained audit log and a real TLS
// syslog listener. The compliant set-up exits 0; each spoiled one exits 1 naming the control.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createTlsServer, type Server } from 'node:tls'
import { tmpdir } from 'node:os'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { loadConfig, configHash } from '../../src/config/load.js'
import type { GatehouseConfig } from '../../src/config/schema.js'
import { loadSecrets } from '../../src/config/secrets.js'
import { createAuditLog } from '../../src/audit/index.js'
import { createStore } from '../../src/store/index.js'
import type { StoreBackend } from '../../src/store/types.js'
import { systemClock } from '../../src/clock.js'
import { createDevCa, issueCert } from '../../src/tls/dev-certs.js'
import { sharedTestCerts } from '../helpers/tls.js'
import { createOpsCommands } from '../../src/cli/ops-commands.js'
import type { ParsedArgs } from '../../src/cli/types.js'
import type { ComplianceReport } from '../../src/ops/compliance.js'
import type { EvidenceBundle } from '../../src/ops/evidence.js'
import { productionRaw, type Raw } from '../unit/ops/compliance-fixtures.js'
import { recordFromNpmAudit } from '../../src/ops/dependency-scan.js'
import { writeScanRecord } from '../../src/ops/scan-files.js'

const cleanAudit = { auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 } } }
const highAudit = {
  auditReportVersion: 2,
  vulnerabilities: { 'node-forge': { name: 'node-forge', severity: 'high', via: [{ source: 1, title: 'forged signatures', url: 'https://github.com/advisories/GHSA-test-high-0001', severity: 'high' }], fixAvailable: true } },
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 1, critical: 0, total: 1 } }
}

let dir: string
let syslog: Server
let syslogPort: number
let store: StoreBackend
const shared = sharedTestCerts()
const ca = { certPem: readFileSync(shared.caCert, 'utf8'), keyPem: readFileSync(shared.caKey, 'utf8') }
const commands = createOpsCommands({
  // the shipped config names PostgreSQL; the test store is SQLite in the temp folder (never closed by the command)
  openStore: async () => ({
    listUsers: () => store.listUsers(), listApiKeys: () => store.listApiKeys(), usageSummary: (s, by) => store.usageSummary(s, by), close: async () => {}
  }),
  clock: systemClock
})

function writeConfig (mutate: (r: Raw) => void = () => {}): GatehouseConfig {
  const raw = productionRaw()
  raw.audit.sinks[1].url = `tls://localhost:${syslogPort}`
  mutate(raw)
  const file = join(dir, 'config', 'gatehouse.yaml')
  writeFileSync(file, stringify(raw))
  return loadConfig(file)
}

function run (name: 'compliance check' | 'evidence export' | 'scan record', config: GatehouseConfig, extra: Partial<ParsedArgs> = {}) {
  const out: string[] = []
  const err: string[] = []
  const io = { out: (t: string) => { out.push(t) }, err: (t: string) => { err.push(t) }, readStdin: async () => '' }
  const args: ParsedArgs = { command: name.split(' '), json: false, passwordStdin: false, ...extra }
  const handler = commands[name]
  if (!handler) throw new Error(name)
  return handler(config, args, io).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }))
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-ops-cli-'))
  for (const d of ['config', 'certs', 'siem', 'logs', 'data']) mkdirSync(join(dir, d))
  const server = issueCert(ca, 'gatehouse.example.com', 'server', ['localhost'])
  writeFileSync(join(dir, 'certs', 'tls.crt'), server.certPem)
  writeFileSync(join(dir, 'certs', 'tls.key'), server.keyPem, { mode: 0o600 })
  writeFileSync(join(dir, 'siem', 'ca.crt'), ca.certPem)
  const siem = issueCert(ca, 'localhost', 'server', ['localhost', '127.0.0.1', '::1'])
  syslog = createTlsServer({ cert: siem.certPem, key: siem.keyPem }, (s) => { s.on('error', () => {}); s.resume() })
  await new Promise<void>((resolve) => syslog.listen(0, resolve))
  syslogPort = (syslog.address() as { port: number }).port

  const config = writeConfig()
  writeScanRecord(config.compliance.scanDir, recordFromNpmAudit(cleanAudit, Date.now() - 60_000))
  writeFileSync(join(config.compliance.scanDir, 'sbom.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'fastify' }] }))
  store = await createStore(`sqlite:${join(dir, 'data', 'gatehouse.db')}`)
  const now = Date.now()
  await store.createUser({ username: 'admin', roles: ['admin'], passwordHash: 'x' }, now - 1000)
  await store.updateUser('admin', { totpEnrolled: true, totpSecretEnc: 'enc', lastLoginAt: now - 500 }, now - 500)
  await store.createUser({ username: 'alice', roles: ['user'], passwordHash: 'x' }, now)
  await store.createApiKey({ name: 'app', role: 'user', keyHash: 'a'.repeat(64), prefix: 'abcd', expiresAt: now + 30 * 86_400_000 }, now)

  // the audit trail a running gateway would have written for this configuration
  const secrets = loadSecrets(config)
  const log = await createAuditLog({
    config: { ...config.audit, sinks: config.audit.sinks.filter((s) => s.type === 'file') },
    chainKey: secrets.auditChainKey, checkpointKey: secrets.auditCheckpoint.privateKey, replicaId: 'replica-a', clock: systemClock
  })
  log.emit({ action: 'config-loaded', outcome: 'success', config: { hash: configHash(config), previousHash: null } })
  log.emit({ action: 'login', outcome: 'success', userName: 'admin', sourceIp: '127.0.0.1' })
  log.emit({ action: 'login', outcome: 'failure', userName: 'alice', sourceIp: '127.0.0.1', reason: 'bad_password' })
  log.emit({ action: 'access-denied', outcome: 'failure', userName: 'alice', request: { method: 'POST', path: '/api/chat', status: 403, durationNs: 1000, decision: 'deny', reason: 'GH_ERR_MODEL_FORBIDDEN', credential: 'session' } })
  await log.close()
})

afterAll(async () => {
  await store?.close()
  await new Promise((resolve) => syslog?.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

describe('gatehouse compliance check', () => {
  it('exits 0 on the production example config, with every check passing or warning', async () => {
    const r = await run('compliance check', writeConfig(), { json: true })
    const report = JSON.parse(r.out) as ComplianceReport
    expect(report.checks.filter((c) => c.verdict === 'fail')).toEqual([])
    expect(r.code).toBe(0)
    expect(report.compliant).toBe(true)
    const verdict = (id: string) => report.checks.find((c) => c.id === id)?.verdict
    expect(verdict('audit-sinks-writable')).toBe('pass') // the file and the TLS syslog listener
    expect(verdict('audit-chain')).toBe('pass')
    expect(verdict('config-hash')).toBe('pass')
    expect(verdict('secrets')).toBe('pass')
  })

  it('prints a readable table with each check\'s control, verdict and evidence', async () => {
    const r = await run('compliance check', writeConfig())
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^PASS\s+CC6\.7\s+tls-enabled\s+TLS terminates client connections$/m)
    expect(r.out).toMatch(/evidence: \{"tls\.enabled":true/)
    expect(r.out).toMatch(/^COMPLIANT: \d+ pass, 0 fail/m)
  })

  it('exits 1 naming CC6.8 when the newest recorded npm audit has a high finding, and 0 again once a clean scan is recorded', async () => {
    const config = writeConfig()
    const auditFile = join(dir, 'npm-audit-high.json')
    writeFileSync(auditFile, JSON.stringify(highAudit))
    const rec = await run('scan record', config, { command: ['scan', 'record', auditFile] })
    expect(rec.code).toBe(0)
    expect(rec.out).toMatch(/^recorded .*npm-audit-.*\.json: 0 critical, 1 high/)
    try {
      const r = await run('compliance check', config, { json: true })
      expect(r.code).toBe(1)
      const check = (JSON.parse(r.out) as ComplianceReport).checks.find((c) => c.id === 'dependency-scan')
      expect(check).toMatchObject({ control: 'CC6.8', verdict: 'fail' })
      expect(check?.detail).toContain('node-forge GHSA-test-high-0001')
    } finally {
      writeFileSync(auditFile, JSON.stringify(cleanAudit))
      expect((await run('scan record', config, { command: ['scan', 'record', auditFile] })).code).toBe(0)
    }
    expect((await run('compliance check', config)).code).toBe(0)
  })

  it('scan record refuses npm\'s error document with exit 2 semantics (a usage error) and records nothing', async () => {
    const config = writeConfig()
    const auditFile = join(dir, 'npm-audit-error.json')
    writeFileSync(auditFile, JSON.stringify({ message: '405 Method Not Allowed', error: { summary: '', detail: '' } }))
    await expect(run('scan record', config, { command: ['scan', 'record', auditFile] })).rejects.toThrow(/npm audit failed \(405 Method Not Allowed\); nothing recorded/)
  })

  it('exits 1 naming CC7.2 when audit.failClosed is off', async () => {
    const r = await run('compliance check', writeConfig((raw) => { raw.audit.failClosed = false }))
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^FAIL\s+CC7\.2\s+audit-fail-closed/m)
    expect(r.out).toMatch(/^NOT COMPLIANT: /m)
  })

  it('exits 1 naming CC6.1 when MFA is not required for admins', async () => {
    const r = await run('compliance check', writeConfig((raw) => { raw.auth.mfa.requiredForRoles = ['user'] }), { json: true })
    expect(r.code).toBe(1)
    const failed = (JSON.parse(r.out) as ComplianceReport).checks.filter((c) => c.verdict === 'fail').map((c) => [c.control, c.id])
    expect(failed).toEqual([['CC6.1', 'mfa-admin']])
  })

  it('exits 1 naming CC7.2 when the syslog sink cannot be reached', async () => {
    const r = await run('compliance check', writeConfig((raw) => { raw.audit.sinks[1].url = 'tls://localhost:1' }), { json: true })
    expect(r.code).toBe(1)
    const check = (JSON.parse(r.out) as ComplianceReport).checks.find((c) => c.id === 'audit-sinks-writable')
    expect(check).toMatchObject({ control: 'CC7.2', verdict: 'fail' })
    expect(JSON.stringify(check?.evidence)).toContain('ECONNREFUSED')
  })

  it('exits 1 naming CC7.2 when the syslog server\'s certificate is not from the configured CA', async () => {
    const other = createDevCa()
    writeFileSync(join(dir, 'siem', 'other-ca.crt'), other.certPem)
    const r = await run('compliance check', writeConfig((raw) => { raw.audit.sinks[1].ca = '../siem/other-ca.crt' }), { json: true })
    expect(r.code).toBe(1)
    expect((JSON.parse(r.out) as ComplianceReport).checks.find((c) => c.id === 'audit-sinks-writable')?.verdict).toBe('fail')
  })

  it('creates no keys: against a dataDir Gatehouse never used, it exits 1 naming CC6.1 secrets and leaves the folder absent', async () => {
    const r = await run('compliance check', writeConfig((raw) => { raw.dataDir = '../never-started' }), { json: true })
    expect(r.code).toBe(1)
    const checks = (JSON.parse(r.out) as ComplianceReport).checks
    expect(checks.find((c) => c.id === 'secrets')).toMatchObject({ control: 'CC6.1', verdict: 'fail' })
    expect(checks.find((c) => c.id === 'audit-chain')?.verdict).toBe('fail')
    expect(existsSync(join(dir, 'never-started'))).toBe(false)
  })

  it('exits 1 naming CC7.2 when a line of the audit log was edited', async () => {
    const file = join(dir, 'logs', 'audit.log')
    const original = readFileSync(file, 'utf8')
    copyFileSync(file, file + '.bak')
    try {
      writeFileSync(file, original.replace('"bad_password"', '"good_password"'))
      const r = await run('compliance check', writeConfig(), { json: true })
      expect(r.code).toBe(1)
      const check = (JSON.parse(r.out) as ComplianceReport).checks.find((c) => c.id === 'audit-chain')
      expect(check).toMatchObject({ control: 'CC7.2', verdict: 'fail' })
      expect(check?.detail).toMatch(/audit\.log:3 modified/)
    } finally {
      copyFileSync(file + '.bak', file)
      rmSync(file + '.bak')
    }
  })
})

describe('gatehouse evidence export', () => {
  it('writes one 0600 JSON bundle with the access review, keys, redacted config, audit statistics, chain and checks', async () => {
    const rulesFile = join(import.meta.dirname, '../../deploy/monitoring/alerts.yaml')
    const config = writeConfig((raw) => { raw.compliance.alertRulesFile = rulesFile })
    const out = join(dir, 'evidence.json')
    const r = await run('evidence export', config, { days: '30', out, json: true })
    expect(r.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const text = readFileSync(out, 'utf8')
    expect(text).not.toContain('BEGIN PRIVATE KEY')
    const b = JSON.parse(text) as EvidenceBundle
    expect(b.period.days).toBe(30)
    expect(b.accessReview.users.map((u) => [u.username, u.roles, u.mfaEnrolled, u.lastLoginAt !== null])).toEqual(
      expect.arrayContaining([['admin', ['admin'], true, true], ['alice', ['user'], false, false]]))
    expect(b.accessReview.roles.admin).toMatchObject({ mfaRequired: true, users: ['admin'] })
    expect(b.apiKeys).toEqual([expect.objectContaining({ name: 'app', role: 'user', status: 'active', ageDays: 0 })])
    expect(b.configuration.hash).toBe(configHash(config))
    expect(b.configuration.redacted.store.url).toBe(config.store.url)
    expect(b.audit.statistics?.byAction).toMatchObject({
      'config-loaded': { success: 1, failure: 0 }, login: { success: 1, failure: 1 }, 'access-denied': { success: 0, failure: 1 }
    })
    expect(b.audit.statistics?.denials).toEqual({ GH_ERR_MODEL_FORBIDDEN: 1 })
    expect(b.audit.chain).toMatchObject({ id: 'audit-chain', verdict: 'pass' })
    expect(b.compliance.checks.find((c) => c.id === 'secrets')?.verdict).toBe('pass')
    expect(JSON.parse(r.out)).toMatchObject({ out, users: 2, apiKeys: 1, compliant: b.compliance.compliant })
    // vulnerability management: the recorded scans, the newest one as written, the SBOM with its hash
    expect(b.vulnerabilityManagement.scanDir).toBe(config.compliance.scanDir)
    expect(b.vulnerabilityManagement.latest.map((l) => [l.summary.scanner, (l.document as { kind: string }).kind])).toEqual([['npm-audit', 'gatehouse-scan']])
    expect(b.vulnerabilityManagement.sbom?.facts).toMatchObject({ format: 'CycloneDX 1.5', components: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(b.vulnerabilityManagement.sbom?.document).toMatchObject({ bomFormat: 'CycloneDX' })
    // the alert rules as deployed (compliance.alertRulesFile): content and hash
    const rules = readFileSync(rulesFile)
    expect(b.monitoring.alertRules).toEqual({ file: rulesFile, sha256: createHash('sha256').update(rules).digest('hex'), content: rules.toString('utf8') })
    expect(b.retention.auditFiles).toEqual([expect.objectContaining({ path: join(dir, 'logs', 'audit.log'), files: 1 })])
    // the disposal settings, and the intrusion-detection alerts of the period (none here)
    expect(b.retention.settings).toEqual({ auditRetentionDays: config.audit.retentionDays, storePurgeAfterDays: config.store.purgeAfterDays })
    expect(b.monitoring.detections).toEqual({ total: 0, byRule: {} })
    // the one config-loaded event written at set-up, which named no earlier configuration
    expect(b.configuration.history).toEqual([{ at: expect.any(String), hash: b.audit.statistics?.configHashes[0], previousHash: null }])
    // token usage of the period by user and by key (none recorded here), with the quotas in force
    expect(b.usage).toMatchObject({ byUser: { by: 'user', rows: [] }, byKey: { by: 'key', rows: [] }, quotas: [], retentionDays: 400 })
  })

  it('counts only events inside the period', async () => {
    const out = join(dir, 'evidence-future.json')
    // a period that ended before any of these events: a clock 400 days ahead with --days 1
    const later = createOpsCommands({
      openStore: async () => ({
    listUsers: () => store.listUsers(), listApiKeys: () => store.listApiKeys(), usageSummary: (s, by) => store.usageSummary(s, by), close: async () => {}
  }),
      clock: { now: () => Date.now() + 400 * 86_400_000 }
    })
    const code = await later['evidence export']?.(writeConfig(), { command: ['evidence', 'export'], json: true, passwordStdin: false, days: '1', out }, { out: () => {}, err: () => {}, readStdin: async () => '' })
    expect(code).toBe(0)
    const b = JSON.parse(readFileSync(out, 'utf8')) as EvidenceBundle
    expect(b.audit.statistics?.events).toBe(0)
    expect(b.audit.statistics?.configHashes.length).toBe(1)
  })

  it('is a usage error (exit 2) without --days, with a bad --days, or without --out', async () => {
    const config = writeConfig()
    await expect(run('evidence export', config, { out: join(dir, 'x.json') })).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
    await expect(run('evidence export', config, { days: 'ten', out: join(dir, 'x.json') })).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
    await expect(run('evidence export', config, { days: '0', out: join(dir, 'x.json') })).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
    await expect(run('evidence export', config, { days: '7' })).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
    await expect(run('evidence export', config, { days: '7', out: join(dir, 'missing-dir', 'x.json') })).rejects.toMatchObject({ code: 'GH_ERR_USAGE' })
  })

  it('replaces an earlier bundle and keeps it private even if the old file was world-readable', async () => {
    const out = join(dir, 'evidence-again.json')
    writeFileSync(out, 'old')
    chmodSync(out, 0o644)
    expect((await run('evidence export', writeConfig(), { days: '7', out })).code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(readFileSync(out, 'utf8')).toContain('"gatehouse-evidence"')
  })
})
