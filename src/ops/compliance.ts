// SOC 2 control checks as a pure function of what was collected: the configuration, the
// store's users and keys, sink probes, the chain verification and facts about secrets. Each check
// names its control, its verdict and the evidence it looked at. I/O lives in compliance-input.ts.
import { createPolicy } from '../rbac/policy.js'
import { mfaRequired } from '../auth/mfa-policy.js'
import { BOOTSTRAP_USERNAME } from '../auth/bootstrap.js'
import type { GatehouseConfig } from '../config/schema.js'
import { isLoopbackHost, parseCidr } from '../config/cidr.js'
import type { ApiKeyRecord, UserRecord } from '../store/types.js'
import type { VerifyResult } from '../audit/verify.js'
import { dependencyScanCheck, type ScanFacts } from './dependency-scan.js'

export type Control = 'CC6.1' | 'CC6.6' | 'CC6.7' | 'CC6.8' | 'CC7.2' | 'CC8.1' | 'C1.1'
/** `info` states a fact that is neither good nor bad on its own (mTLS on or off) */
export type Verdict = 'pass' | 'fail' | 'warn' | 'info'

export interface CheckResult {
  id: string
  control: Control
  title: string
  verdict: Verdict
  /** one line: why this verdict */
  detail: string
  evidence: Record<string, unknown>
}

export interface SinkProbe { type: 'file' | 'stdout' | 'syslog', target: string, ok: boolean, error?: string }

export interface ChainVerification {
  /** per file sink: the files read and the verifier's result (null when the files could not be read) */
  sinks: Array<{ path: string, files: string[], result: VerifyResult | null, error?: string }>
}

export interface SecretFacts {
  /** null when the secrets could not be loaded at all */
  error: string | null
  /** symmetric keys by name: facts only, never the key */
  keys: Array<{ name: string, weak: boolean, fingerprint: string }>
  /** groups of key names that hold the same bytes */
  duplicates: string[][]
}

export interface CertificateFacts {
  path: string
  error: string | null
  subject?: string
  issuer?: string
  notAfter?: string
  /** issued by `gatehouse certs dev` / the first-start development CA */
  development?: boolean
}

/** The deployed alert rules file (compliance.alertRulesFile) as read: the alert names it defines */
export interface AlertRulesFacts { file: string, error: string | null, alerts: string[] }

/** The alert on intrusion-detection alerts; without it detections reach the audit trail but page no one */
const DETECTION_ALERT = 'GatehouseIntrusionDetected'
const RECOMMENDED_RETENTION_DAYS = 365

export interface ComplianceInput {
  config: GatehouseConfig
  users: UserRecord[]
  keys: ApiKeyRecord[]
  now: number
  auditSinkProbe: SinkProbe[]
  /** null when there is no file sink to verify */
  chainVerification: ChainVerification | null
  secrets: SecretFacts
  /** config hashes found in config-loaded audit events (null when no file sink could be read) */
  recordedConfigHashes: string[] | null
  configHash: string
  certificate?: CertificateFacts | null
  /** the scans in compliance.scanDir; absent counts as none recorded */
  dependencyScans?: ScanFacts
  /** compliance.alertRulesFile as read; absent: not looked at (the alert-rules check is left out) */
  alertRules?: AlertRulesFacts
}

const DAY = 86_400_000
const STALE_DAYS = 90
const AEAD = /(GCM|CHACHA20-POLY1305|CCM)/i
const UNSAFE = /(NULL|EXPORT|RC4|DES|MD5|ANON|PSK|SRP)/i

/** Cipher-list entries that allow a non-AEAD suite. Exclusions (`!x`, `-x`) are ignored; keywords like HIGH are not AEAD-only. */
export function nonAeadCiphers (list: string): string[] {
  return list.split(/[:, ]+/).filter((c) => c !== '' && !c.startsWith('!') && !c.startsWith('-'))
    .map((c) => c.replace(/^\+/, ''))
    .filter((c) => !AEAD.test(c) || UNSAFE.test(c))
}

const iso = (t: number | null | undefined): string | null => (typeof t === 'number' ? new Date(t).toISOString() : null)

function urlHasPassword (u: string | null): boolean {
  if (!u) return false
  try { return new URL(u).password !== '' } catch { return false }
}

function check (id: string, control: Control, title: string, verdict: Verdict, detail: string,
  evidence: Record<string, unknown>): CheckResult {
  return { id, control, title, verdict, detail, evidence }
}

function tlsChecks (c: GatehouseConfig, cert: CertificateFacts | null | undefined, now: number): CheckResult[] {
  const out: CheckResult[] = []
  const tls = c.tls
  out.push(check('tls-enabled', 'CC6.7', 'TLS terminates client connections', tls.enabled ? 'pass' : 'fail',
    tls.enabled ? 'tls.enabled is true' : 'tls.enabled is false: clients talk to Gatehouse in clear text',
    { 'tls.enabled': tls.enabled, 'listen.host': c.listen.host }))
  const okVersion = tls.minVersion === 'TLSv1.2' || tls.minVersion === 'TLSv1.3'
  out.push(check('tls-min-version', 'CC6.7', 'Only TLS 1.2 or newer is accepted', tls.enabled && okVersion ? 'pass' : 'fail',
    tls.enabled ? `tls.minVersion is ${tls.minVersion}` : 'TLS is off', { 'tls.minVersion': tls.minVersion, 'tls.enabled': tls.enabled }))
  // TLS 1.3 suites are AEAD by definition; the cipher list only governs TLS 1.2
  const weak = tls.minVersion === 'TLSv1.3' ? [] : nonAeadCiphers(tls.ciphers)
  out.push(check('tls-aead-ciphers', 'CC6.7', 'Only AEAD cipher suites (GCM, ChaCha20-Poly1305) are offered',
    tls.enabled && weak.length === 0 ? 'pass' : 'fail',
    !tls.enabled ? 'TLS is off' : weak.length === 0 ? 'every configured suite is AEAD' : `non-AEAD or unsafe entries: ${weak.join(', ')}`,
    { 'tls.ciphers': tls.ciphers, nonAead: weak }))
  if (tls.enabled && cert) {
    const expires = cert.notAfter ? Date.parse(cert.notAfter) : NaN
    const verdict: Verdict = cert.error !== null || !(expires > now) ? 'fail'
      : (cert.development === true || expires - now < 30 * DAY) ? 'warn' : 'pass'
    const detail = cert.error !== null ? `cannot read the certificate: ${cert.error}`
      : !(expires > now) ? `the certificate expired at ${cert.notAfter}`
          : cert.development === true ? 'a development certificate (gatehouse certs dev) is in use'
            : expires - now < 30 * DAY ? `the certificate expires soon (${cert.notAfter})` : `valid until ${cert.notAfter}`
    out.push(check('tls-certificate', 'CC6.7', 'The server certificate is valid and not a development one', verdict, detail, { ...cert }))
  }
  out.push(check('mtls', 'CC6.6', 'Client certificates (mTLS)', 'info',
    tls.clientCa ? 'client certificates are required' : 'client certificates are not required (credentials only)',
    { 'tls.clientCa': tls.clientCa }))
  return out
}

function boundaryChecks (c: GatehouseConfig): CheckResult[] {
  const out: CheckResult[] = []
  const loop = isLoopbackHost(c.listen.host)
  out.push(check('listen-boundary', 'CC6.6', 'Gatehouse listens on loopback only, or with TLS', loop || c.tls.enabled ? 'pass' : 'fail',
    loop ? 'listens on a loopback address' : c.tls.enabled ? 'listens on a network address with TLS'
      : 'listens on a network address without TLS',
    { 'listen.host': c.listen.host, 'listen.port': c.listen.port, 'tls.enabled': c.tls.enabled }))

  const everything: string[] = []
  const broad: string[] = []
  for (const p of c.trustProxies) {
    const cidr = parseCidr(p)
    if (!cidr) continue
    if (cidr.prefix === 0) everything.push(p)
    else if (cidr.prefix < (cidr.bytes.length === 4 ? 8 : 32)) broad.push(p)
  }
  out.push(check('trust-proxies', 'CC6.6', 'X-Forwarded-For is believed only from named proxies',
    everything.length > 0 ? 'fail' : broad.length > 0 ? 'warn' : 'pass',
    everything.length > 0 ? `trustProxies trusts every address (${everything.join(', ')}): any client can forge its source IP`
      : broad.length > 0 ? `very broad trusted ranges: ${broad.join(', ')}` : c.trustProxies.length === 0
        ? 'no proxy is trusted: the socket address is used' : 'only named proxy ranges are trusted',
    { trustProxies: [...c.trustProxies] }))

  const hostnameOf = (url: string) => { try { return new URL(url).hostname } catch { return '' } } // the loader rejects bad URLs
  out.push(check('upstream-isolation', 'CC6.6', 'Ollama is reachable only through Gatehouse', 'warn',
    'cannot be verified from inside the process: deploy Ollama with no published port ' +
      '(docker-compose internal network, Kubernetes NetworkPolicy in deploy/kubernetes)',
    {
      'upstream.url': c.upstream.url,
      ...(c.upstream.url === null ? { 'upstream.hosts': c.upstream.hosts.map((h) => `${h.name} ${h.url}`) } : {}),
      upstreamOnLoopback: c.upstream.hosts.every((h) => isLoopbackHost(hostnameOf(h.url)))
    }))
  return out
}

function accessChecks (i: ComplianceInput): CheckResult[] {
  const { config: c, now } = i
  const out: CheckResult[] = []
  const required = c.auth.mfa.requiredForRoles
  const roles = Object.entries(c.rbac.roles)
  // the same rules the gateway enforces: the policy's `admin` permission, the MFA policy's roles
  const policy = createPolicy(c.rbac.roles)
  const adminRoles = roles.map(([n]) => n).filter((n) => policy.permits([n], 'admin'))
  const adminWithout = adminRoles.filter((r) => !mfaRequired([r], required))
  // single sign-on: a required second factor is local TOTP, or the IdP's MFA only for the amr values of mfaFromIdp
  const oidc = c.auth.oidc
  const idpMfa = oidc.enabled && oidc.mfaFromIdp.length > 0
  const ssoAdminRoles = oidc.enabled ? [...new Set(Object.values(oidc.roleMapping))].filter((r) => adminRoles.includes(r)) : []
  const how = !oidc.enabled ? 'TOTP'
    : idpMfa ? `TOTP, or the IdP's MFA when its amr has one of ${oidc.mfaFromIdp.join(', ')}` : 'TOTP, also after single sign-on'
  out.push(check('mfa-admin', 'CC6.1', 'MFA is required for administrative roles', adminWithout.length === 0 ? 'pass' : 'fail',
    adminWithout.length === 0 ? `every role with admin permissions requires MFA (${how})`
      : `roles with admin permissions without MFA: ${adminWithout.join(', ')}`,
    { 'auth.mfa.requiredForRoles': [...required], adminRoles, adminRolesWithoutMfa: adminWithout,
      sso: { enabled: oidc.enabled, adminRolesFromIdp: ssoAdminRoles, mfaFromIdp: idpMfa ? [...oidc.mfaFromIdp] : [] } }))
  const without = roles.map(([n]) => n).filter((r) => !mfaRequired([r], required))
  out.push(check('mfa-all-roles', 'CC6.1', 'MFA is required for every role', without.length === 0 ? 'pass' : 'warn',
    without.length === 0 ? 'MFA is required for all roles' : `roles without MFA: ${without.join(', ')}`,
    { 'auth.mfa.requiredForRoles': [...required], rolesWithoutMfa: without }))

  const l = c.auth.lockout
  const lockProblems = [
    ...(l.maxFailedAttempts > 10 ? ['maxFailedAttempts > 10'] : []),
    ...(l.lockoutSeconds < 300 ? ['lockoutSeconds < 300'] : []),
    ...(l.perIpMaxFailures > 100 ? ['perIpMaxFailures > 100'] : [])
  ]
  out.push(check('lockout', 'CC6.1', 'Accounts lock after repeated failures', lockProblems.length === 0 ? 'pass' : 'fail',
    lockProblems.length === 0 ? `locks after ${l.maxFailedAttempts} failures for ${l.lockoutSeconds} s`
      : `lockout too lax: ${lockProblems.join(', ')}`,
    { 'auth.lockout': { ...l }, thresholds: { maxFailedAttempts: '<= 10', lockoutSeconds: '>= 300', perIpMaxFailures: '<= 100' } }))

  const minLen = c.auth.password.minLength
  out.push(check('password-length', 'CC6.1', 'Passwords have at least 12 characters', minLen >= 12 ? 'pass' : 'fail',
    `auth.password.minLength is ${minLen}`, { 'auth.password.minLength': minLen }))

  const { sessionTtlSeconds: ttl, idleTimeoutSeconds: idle } = c.auth
  out.push(check('session-lifetime', 'CC6.1', 'Sessions last at most 12 h and idle out within 1 h',
    ttl <= 43200 && idle <= 3600 ? 'pass' : 'fail',
    `sessionTtlSeconds ${ttl} (max 43200), idleTimeoutSeconds ${idle} (max 3600)`,
    { 'auth.sessionTtlSeconds': ttl, 'auth.idleTimeoutSeconds': idle }))

  // secrets: generated or supplied keys must be real random keys, each used for one purpose
  const s = i.secrets
  const weak = s.keys.filter((k) => k.weak).map((k) => k.name)
  const inUrl = [...(urlHasPassword(c.store.url) ? ['store.url'] : []), ...(urlHasPassword(c.redis.url) ? ['redis.url'] : [])]
  const secretsOk = s.error === null && weak.length === 0 && s.duplicates.length === 0 && inUrl.length === 0
  out.push(check('secrets', 'CC6.1', 'No default, weak, shared or in-config secrets', secretsOk ? 'pass' : 'fail',
    s.error !== null ? `secrets could not be loaded: ${s.error}`
      : [
          ...(weak.length > 0 ? [`weak keys (all one byte value): ${weak.join(', ')}`] : []),
          ...(s.duplicates.length > 0 ? [`keys that are the same: ${s.duplicates.map((d) => d.join(' = ')).join('; ')}`] : []),
          ...(inUrl.length > 0 ? [`a password is written in ${inUrl.join(', ')} (use PGPASSWORD / the environment)`] : [])
        ].join('; ') || 'every key is distinct and random-looking; no password in the config',
    { keys: s.keys, duplicates: s.duplicates, passwordsInConfig: inUrl }))

  const boot = i.users.find((u) => u.username === BOOTSTRAP_USERNAME && u.status === 'active')
  const untouched = boot !== undefined && !boot.totpEnrolled && boot.updatedAt === boot.createdAt && boot.lastLoginAt === null
  out.push(check('bootstrap-admin', 'CC6.1', 'The bootstrap admin\'s one-time password is not left in place',
    boot === undefined ? 'pass' : untouched ? 'fail' : boot.totpEnrolled ? 'pass' : 'warn',
    boot === undefined ? `no active "${BOOTSTRAP_USERNAME}" account`
      : untouched
        ? `"${BOOTSTRAP_USERNAME}" still has its first-start one-time password and no MFA: ` +
          'log in and enroll, change the password, or disable it'
        : boot.totpEnrolled ? `"${BOOTSTRAP_USERNAME}" has enrolled MFA`
          : `"${BOOTSTRAP_USERNAME}" has changed since creation but has no MFA`,
    boot === undefined ? { present: false }
      : { present: true, createdAt: iso(boot.createdAt), updatedAt: iso(boot.updatedAt), lastLoginAt: iso(boot.lastLoginAt),
      mfaEnrolled: boot.totpEnrolled }))

  const activeKeys = i.keys.filter((k) => k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now))
  const noExpiry = activeKeys.filter((k) => k.expiresAt === null)
  out.push(check('key-expiry', 'CC6.1', 'No active API key without an expiry', noExpiry.length === 0 ? 'pass' : 'fail',
    noExpiry.length === 0 ? `${activeKeys.length} active key(s), each expiring`
      : `${noExpiry.length} active key(s) never expire: ${noExpiry.map((k) => `${k.name} (${k.id})`).join(', ')}`,
    { activeKeys: activeKeys.length,
      keysWithoutExpiry: noExpiry.map((k) => ({ id: k.id, name: k.name, role: k.role, createdAt: iso(k.createdAt) })) }))

  const cutoff = now - STALE_DAYS * DAY
  const staleUsers = i.users.filter((u) => u.status === 'active' && (u.lastLoginAt ?? u.createdAt) < cutoff)
  out.push(check('stale-accounts', 'CC6.1', `No active account unused for ${STALE_DAYS} days`, staleUsers.length === 0 ? 'pass' : 'fail',
    staleUsers.length === 0 ? `every active account was used (or created) within ${STALE_DAYS} days`
      : `unused for ${STALE_DAYS}+ days: ${staleUsers.map((u) => u.username).join(', ')} (disable them)`,
    { staleUsers: staleUsers.map((u) =>
      ({ username: u.username, roles: u.roles, lastLoginAt: iso(u.lastLoginAt), createdAt: iso(u.createdAt) })), cutoff: iso(cutoff) }))
  const staleKeys = activeKeys.filter((k) => (k.lastUsedAt ?? k.createdAt) < cutoff)
  out.push(check('stale-keys', 'CC6.1', `No active API key unused for ${STALE_DAYS} days`, staleKeys.length === 0 ? 'pass' : 'warn',
    staleKeys.length === 0 ? `every active key was used (or created) within ${STALE_DAYS} days`
      : `unused for ${STALE_DAYS}+ days: ${staleKeys.map((k) => `${k.name} (${k.id})`).join(', ')} (revoke them)`,
    { staleKeys: staleKeys.map((k) => ({ id: k.id, name: k.name, lastUsedAt: iso(k.lastUsedAt), createdAt: iso(k.createdAt) })),
      cutoff: iso(cutoff) }))

  const m = c.masking
  out.push(check('masking', 'C1.1', 'PII masking protects model output', m.enabled ? (m.exemptRoles.length > 0 ? 'warn' : 'pass') : 'fail',
    !m.enabled ? 'masking.enabled is false: model output reaches clients unmasked'
      : m.exemptRoles.length > 0 ? `roles exempt from masking: ${m.exemptRoles.join(', ')}`
        : `masking ${m.entities.join(', ')} in ${m.direction === 'both' ? 'prompts and replies' : 'replies'}`,
    { 'masking.enabled': m.enabled, 'masking.direction': m.direction, 'masking.entities': [...m.entities],
      'masking.exemptRoles': [...m.exemptRoles] }))
  return out
}

function monitoringChecks (i: ComplianceInput): CheckResult[] {
  const { config: c } = i
  const out: CheckResult[] = []
  const bad = i.auditSinkProbe.filter((p) => !p.ok)
  out.push(check('audit-sinks-writable', 'CC7.2', 'Every audit sink can be written',
    i.auditSinkProbe.length > 0 && bad.length === 0 ? 'pass' : 'fail',
    i.auditSinkProbe.length === 0 ? 'no audit sink is configured' : bad.length === 0
      ? `${i.auditSinkProbe.length} sink(s) reachable and writable`
      : `failing: ${bad.map((p) => `${p.type} ${p.target} (${p.error ?? 'unavailable'})`).join('; ')}`,
    { sinks: i.auditSinkProbe }))
  const durable = c.audit.sinks.filter((s) => s.type !== 'stdout').map((s) => s.type)
  const offHost = c.audit.sinks.some((s) => s.type === 'syslog')
  out.push(check('audit-sinks-durable', 'CC7.2', 'Audit events reach durable storage and a SIEM',
    durable.length === 0 ? 'fail' : offHost ? 'pass' : 'warn',
    durable.length === 0 ? 'only stdout: nothing durable holds the audit trail' : offHost
      ? 'a file and/or syslog sink is configured, with an off-host copy' : 'no syslog sink: the audit trail has no off-host copy',
    { sinkTypes: c.audit.sinks.map((s) => s.type) }))
  out.push(check('audit-fail-closed', 'CC7.2', 'No audit, no access (audit.failClosed)', c.audit.failClosed ? 'pass' : 'fail',
    c.audit.failClosed ? 'requests are refused while no sink can write'
      : 'audit.failClosed is false: requests are served unaudited when sinks fail',
    { 'audit.failClosed': c.audit.failClosed }))

  const cv = i.chainVerification
  const broken = cv?.sinks.filter((s) => s.result !== null && !s.result.ok) ?? []
  const unread = cv?.sinks.filter((s) => s.result === null) ?? []
  const events = cv?.sinks.reduce((n, s) => n + (s.result?.events ?? 0), 0) ?? 0
  out.push(check('audit-chain', 'CC7.2', 'The audit log\'s hash chain and signed checkpoints are intact',
    cv === null ? 'warn' : broken.length > 0 || unread.length > 0 ? 'fail' : events === 0 ? 'warn' : 'pass',
    cv === null ? 'no file sink: the chain is verified by the receiving SIEM'
      : broken.length > 0
        ? broken.map((s) => `${s.path}: ${s.result?.firstBad?.file}:${s.result?.firstBad?.line} ${s.result?.firstBad?.reason}`).join('; ')
        : unread.length > 0 ? unread.map((s) => `${s.path}: ${s.error ?? 'cannot be read'}`).join('; ')
          : events === 0 ? 'no audit events written yet' : `${events} event(s) verified`,
    { sinks: cv?.sinks.map((s) => ({ path: s.path, files: s.files, error: s.error ?? null, result: s.result })) ?? [] }))
  return out
}

function retentionCheck (c: GatehouseConfig): CheckResult {
  const days = c.audit.retentionDays
  const enough = days !== null && days >= RECOMMENDED_RETENTION_DAYS
  const expectation = `SOC 2 auditors expect a defined retention period for audit logs — commonly at least ` +
    `${RECOMMENDED_RETENTION_DAYS} days, covering the whole audit period — and disposal once it is over`
  return check('audit-retention', 'CC7.2', `Audit files are kept for a defined period of at least ${RECOMMENDED_RETENTION_DAYS} days`,
    enough ? 'pass' : 'warn',
    days === null ? `audit.retentionDays is not set: audit files are kept forever and never disposed of. ${expectation}`
      : enough ? `rotated audit files are deleted after ${days} days, once the rest verifies without them`
        : `audit.retentionDays is ${days}: shorter than ${RECOMMENDED_RETENTION_DAYS} days. ${expectation}`,
    { 'audit.retentionDays': days, 'store.purgeAfterDays': c.store.purgeAfterDays, recommendedDays: RECOMMENDED_RETENTION_DAYS })
}

function alertRulesCheck (r: AlertRulesFacts): CheckResult {
  const detection = r.alerts.includes(DETECTION_ALERT)
  // a file that is absent may live with Prometheus only: the evidence lacks it (warn); one that is there must be valid
  const absent = r.error === 'ENOENT'
  const verdict: Verdict = absent ? 'warn' : r.error !== null || r.alerts.length === 0 ? 'fail' : detection ? 'pass' : 'warn'
  return check('alert-rules', 'CC7.2', 'Alert rules for the gateway\'s metrics are deployed', verdict,
    absent ? `compliance.alertRulesFile ${r.file} does not exist: point it at the rules Prometheus loads, so evidence carries them`
      : r.error !== null ? `compliance.alertRulesFile ${r.file}: ${r.error}`
      : r.alerts.length === 0 ? `${r.file} defines no alert`
        : detection ? `${r.alerts.length} alert(s) in ${r.file}, ${DETECTION_ALERT} among them`
          : `${r.alerts.length} alert(s) in ${r.file}, but not ${DETECTION_ALERT}: intrusion detections page no one`,
    { file: r.file, error: r.error, alerts: r.alerts })
}

function changeChecks (i: ComplianceInput): CheckResult[] {
  const rec = i.recordedConfigHashes
  const recorded = rec?.includes(i.configHash) ?? false
  return [check('config-hash', 'CC8.1', 'The running configuration\'s hash is recorded in the audit trail', recorded ? 'pass' : 'warn',
    recorded ? 'a config-loaded event records this configuration'
      : rec === null ? 'no audit file to look in: the config-loaded event goes to the other sinks'
        : 'no config-loaded event has this hash yet: the configuration changed since the last start, or Gatehouse has not started with it',
    { configFile: i.config.configFile, configHash: i.configHash, hashesInAudit: rec === null ? null : [...new Set(rec)].slice(-10) })]
}

export function runComplianceChecks (input: ComplianceInput): CheckResult[] {
  return [
    ...tlsChecks(input.config, input.certificate, input.now),
    ...boundaryChecks(input.config),
    ...accessChecks(input),
    ...monitoringChecks(input),
    retentionCheck(input.config),
    ...(input.alertRules !== undefined ? [alertRulesCheck(input.alertRules)] : []),
    dependencyScanCheck(input.dependencyScans, input.now),
    ...changeChecks(input)
  ]
}

/** The checks decided by the configuration alone (no store, files, network or keys involved). */
export const CONFIG_ONLY_CHECKS: readonly string[] = [
  'tls-enabled', 'tls-min-version', 'tls-aead-ciphers', 'mtls', 'listen-boundary', 'trust-proxies', 'mfa-admin',
  'mfa-all-roles', 'lockout', 'password-length', 'session-lifetime', 'masking', 'audit-sinks-durable', 'audit-fail-closed',
  'audit-retention'
]

/** What `config diff` compares: the config-only checks, run with every other fact neutral. */
export function configOnlyChecks (config: GatehouseConfig): CheckResult[] {
  const neutral: ComplianceInput = {
    config, users: [], keys: [], now: 0, auditSinkProbe: [], chainVerification: null,
    secrets: { error: null, keys: [], duplicates: [] }, recordedConfigHashes: null, configHash: '', certificate: null
  }
  return runComplianceChecks(neutral).filter((c) => CONFIG_ONLY_CHECKS.includes(c.id))
}

export interface ComplianceReport {
  compliant: boolean
  generatedAt: string
  configFile: string | null
  configHash: string
  summary: Record<Verdict, number>
  checks: CheckResult[]
}

export function complianceReport (input: ComplianceInput, checks: CheckResult[] = runComplianceChecks(input)): ComplianceReport {
  const summary: Record<Verdict, number> = { pass: 0, fail: 0, warn: 0, info: 0 }
  for (const c of checks) summary[c.verdict]++
  return {
    compliant: summary.fail === 0,
    generatedAt: new Date(input.now).toISOString(),
    configFile: input.config.configFile,
    configHash: input.configHash,
    summary,
    checks
  }
}
