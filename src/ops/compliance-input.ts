// The I/O half of `gatehouse compliance check`: reads the store, probes every audit sink, verifies
// the audit chain, inspects the keys and the server certificate. Everything it learns becomes a
// ComplianceInput for the pure checks in compliance.ts.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import { dirname } from 'node:path'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { GatehouseConfig, SinkConfig } from '../config/schema.js'
import { configHash } from '../config/load.js'
import { auditCheckpointPublicKey, loadSecrets, readAuditVerifyKeys, type Secrets } from '../config/secrets.js'
import { verifyAuditFiles } from '../audit/verify.js'
import { parseSyslogUrl } from '../audit/sinks/syslog-sink.js'
import type { Store } from '../store/types.js'
import type { CertificateFacts, ChainVerification, ComplianceInput, SecretFacts, SinkProbe } from './compliance.js'
import { auditFilesOf, readAuditStatistics } from './audit-stats.js'
import { readScanFacts } from './scan-files.js'
import { parse as parseYaml } from 'yaml'
import type { AlertRulesFacts } from './compliance.js'

export interface CollectOptions {
  now: number
  /** the keys to judge and verify with; when absent they are read (env + dataDir) without creating any */
  secrets?: Secrets
  /** how long a syslog connect may take (default 3000 ms) */
  probeTimeoutMs?: number
}

/** A directory we could create the log in: the nearest existing ancestor must be writable. */
function writableTarget (path: string): void {
  if (existsSync(path)) { accessSync(path, constants.W_OK); return }
  let dir = dirname(path)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  accessSync(dir, constants.W_OK | constants.X_OK)
}

async function probeSyslog (url: string, caFile: string | null, timeoutMs: number): Promise<void> {
  const t = parseSyslogUrl(url)
  const ca = caFile ? readFileSync(caFile) : undefined
  await new Promise<void>((resolve, reject) => {
    const socket = t.tls
      ? tlsConnect({ host: t.host, port: t.port, ca, servername: isIP(t.host) === 0 ? t.host : undefined, rejectUnauthorized: true },
        () => { socket.end(); resolve() })
      : netConnect({ host: t.host, port: t.port }, () => { socket.end(); resolve() })
    socket.setTimeout(timeoutMs, () => { socket.destroy(); reject(new Error(`no connection within ${timeoutMs} ms`)) })
    socket.once('error', (err) => { socket.destroy(); reject(err) })
  })
}

export async function probeSink (sink: SinkConfig, timeoutMs: number): Promise<SinkProbe> {
  const message = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message
  if (sink.type === 'stdout') return { type: 'stdout', target: 'stdout', ok: true }
  if (sink.type === 'file') {
    try {
      writableTarget(sink.path)
      writableTarget(sink.path + '.checkpoints')
      return { type: 'file', target: sink.path, ok: true }
    } catch (err) { return { type: 'file', target: sink.path, ok: false, error: `not writable: ${message(err)}` } }
  }
  try {
    await probeSyslog(sink.url, sink.ca, timeoutMs)
    return { type: 'syslog', target: sink.url, ok: true }
  } catch (err) { return { type: 'syslog', target: sink.url, ok: false, error: `cannot connect: ${message(err)}` } }
}

const fingerprint = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12)

/** Facts about the symmetric keys, never the keys: weak (one repeated byte) or shared between purposes. */
export function secretFacts (secrets: Pick<Secrets, 'totpKey' | 'maskingKey' | 'auditChainKey'>): SecretFacts {
  const named: Array<[string, Buffer]> = [['totp-encryption', secrets.totpKey], ['masking-hmac', secrets.maskingKey],
    ['audit-chain-hmac', secrets.auditChainKey]]
  const keys = named.map(([name, k]) => ({ name, weak: k.length === 0 || k.every((b) => b === k[0]), fingerprint: fingerprint(k) }))
  const byValue = new Map<string, string[]>()
  for (const [name, k] of named) byValue.set(k.toString('hex'), [...(byValue.get(k.toString('hex')) ?? []), name])
  return { error: null, keys, duplicates: [...byValue.values()].filter((g) => g.length > 1) }
}

function certificateFacts (path: string): CertificateFacts {
  try {
    const cert = new X509Certificate(readFileSync(path))
    return {
      path, error: null, subject: cert.subject, issuer: cert.issuer, notAfter: new Date(cert.validTo).toISOString(),
      development: /O=Gatehouse development/.test(cert.issuer)
    }
  } catch (err) {
    return { path, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }
  }
}

/** The alert names of a Prometheus rules file (groups[].rules[].alert); an error when it cannot be read or parsed. */
export function alertRulesFacts (file: string): AlertRulesFacts {
  let text: string
  try { text = readFileSync(file, 'utf8') } catch (err) {
    return { file, error: (err as NodeJS.ErrnoException).code ?? 'unreadable', alerts: [] }
  }
  let doc: unknown
  try { doc = parseYaml(text) } catch (err) {
    return { file, error: `not YAML: ${(err as Error).message.split('\n')[0] ?? ''}`, alerts: [] }
  }
  const groups = (doc as { groups?: unknown } | null)?.groups
  if (!Array.isArray(groups)) return { file, error: 'not a Prometheus rules file (no groups list)', alerts: [] }
  const alerts: string[] = []
  for (const g of groups) {
    const rules = (g as { rules?: unknown } | null)?.rules
    if (!Array.isArray(rules)) return { file, error: 'a group has no rules list', alerts: [] }
    for (const r of rules) {
      const name = (r as { alert?: unknown } | null)?.alert
      if (typeof name === 'string') alerts.push(name)
    }
  }
  return { file, error: null, alerts }
}

async function verifyChains (config: GatehouseConfig, keys: { chainKey: Buffer, checkpointPublicKey: KeyObject } | null,
  keyError: string | null): Promise<ChainVerification | null> {
  const fileSinks = config.audit.sinks.filter((s): s is Extract<SinkConfig, { type: 'file' }> => s.type === 'file')
  if (fileSinks.length === 0) return null
  const sinks: ChainVerification['sinks'] = []
  for (const s of fileSinks) {
    const files = auditFilesOf(s.path)
    if (keys === null) { sinks.push({ path: s.path, files, result: null, error: `keys unavailable: ${keyError ?? 'unknown'}` }); continue }
    try {
      sinks.push({ path: s.path, files, result: await verifyAuditFiles(files, keys) })
    } catch (err) {
      sinks.push({ path: s.path, files, result: null, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message })
    }
  }
  return { sinks }
}

export async function collectComplianceInput (config: GatehouseConfig, store: Pick<Store, 'listUsers' | 'listApiKeys'>,
  options: CollectOptions): Promise<ComplianceInput> {
  const timeout = options.probeTimeoutMs ?? 3000
  const message = (err: unknown) => (err as Error).message.split('\n').join('; ')
  // read-only first: a check must not create keys (verifying with fresh keys reports every line as modified)
  let chainKeys: { chainKey: Buffer, checkpointPublicKey: KeyObject } | null = null
  let keyError: string | null = null
  try {
    chainKeys = options.secrets
      ? { chainKey: options.secrets.auditChainKey, checkpointPublicKey: auditCheckpointPublicKey(config) }
      : readAuditVerifyKeys(config)
  } catch (err) { keyError = message(err) }
  let secrets: Pick<Secrets, 'totpKey' | 'maskingKey' | 'auditChainKey'> | null = options.secrets ?? null
  let secretError: string | null = null
  if (secrets === null) {
    if (chainKeys === null) secretError = `${keyError ?? 'keys not found'} (has Gatehouse started with this dataDir, as this user?)`
    else try { secrets = loadSecrets(config) } catch (err) { secretError = message(err) }
  }
  const fileSink = config.audit.sinks.find((s): s is Extract<SinkConfig, { type: 'file' }> => s.type === 'file')
  const [users, keys, auditSinkProbe, chainVerification, stats] = await Promise.all([
    store.listUsers(),
    store.listApiKeys(),
    Promise.all(config.audit.sinks.map((s) => probeSink(s, timeout))),
    verifyChains(config, chainKeys, keyError),
    fileSink ? readAuditStatistics(auditFilesOf(fileSink.path), { from: 0, to: options.now }).catch(() => null) : Promise.resolve(null)
  ])
  return {
    config,
    users,
    keys,
    now: options.now,
    auditSinkProbe,
    chainVerification,
    secrets: secrets === null ? { error: secretError ?? 'unknown', keys: [], duplicates: [] } : secretFacts(secrets),
    recordedConfigHashes: stats?.configHashes ?? null,
    configHash: configHash(config),
    certificate: config.tls.enabled ? certificateFacts(config.tls.cert) : null,
    dependencyScans: readScanFacts(config.compliance.scanDir),
    alertRules: alertRulesFacts(config.compliance.alertRulesFile)
  }
}
