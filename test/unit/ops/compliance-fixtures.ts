// Builders for compliance tests: the shipped production config (or a weakened copy of it) and a
// healthy set of collected facts that a test then spoils one at a time.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'
import { buildConfig, configHash } from '../../../src/config/load.js'
import type { GatehouseConfig } from '../../../src/config/schema.js'
import type { ApiKeyRecord, UserRecord } from '../../../src/store/types.js'
import type { ComplianceInput } from '../../../src/ops/compliance.js'

export const ROOT = join(import.meta.dirname, '../../..')
const PRODUCTION_FILE = join(ROOT, 'config/gatehouse.production.yaml')
export const NOW = Date.UTC(2026, 5, 1, 12, 0, 0)
export const DAY = 86_400_000

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Raw = Record<string, any>

export function productionRaw (): Raw {
  return parse(readFileSync(PRODUCTION_FILE, 'utf8')) as Raw
}

/** The production example, changed by `mutate` on its raw YAML form, validated by the real loader. */
export function productionConfig (mutate: (raw: Raw) => void = () => {}, base = dirname(PRODUCTION_FILE)): GatehouseConfig {
  const raw = productionRaw()
  mutate(raw)
  return buildConfig(raw, base, join(base, 'gatehouse.yaml'))
}

export function user (over: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `u-${over.username ?? 'alice'}`, username: 'alice', roles: ['user'], status: 'active', source: 'local', passwordHash: '$argon2id$x',
    totpSecretEnc: 'enc', totpEnrolled: true, totpLastStep: 1, passwordMustChange: false, sessionEpoch: 0, failedCount: 0, lockedUntil: null,
    lastLoginAt: NOW - 2 * DAY, createdAt: NOW - 200 * DAY, updatedAt: NOW - 2 * DAY, ...over
  }
}

export function apiKey (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: 'key-1', name: 'app-server', role: 'user', keyHash: 'h', prefix: 'abcd', createdAt: NOW - 10 * DAY,
    expiresAt: NOW + 80 * DAY, lastUsedAt: NOW - DAY, revokedAt: null, graceUntil: null, replacedBy: null, ...over
  }
}

/** Everything in order: what a healthy deployment of `config` would yield. */
export function healthyInput (config: GatehouseConfig = productionConfig()): ComplianceInput {
  const hash = configHash(config)
  return {
    config,
    users: [user({ username: 'admin', roles: ['admin'] }), user(), user({ username: 'bob', status: 'disabled', lastLoginAt: NOW - 400 * DAY })],
    keys: [apiKey(), apiKey({ id: 'key-2', name: 'old', expiresAt: null, revokedAt: NOW - 5 * DAY })],
    now: NOW,
    auditSinkProbe: config.audit.sinks.map((s) => ({ type: s.type, target: s.type === 'file' ? s.path : s.type === 'syslog' ? s.url : 'stdout', ok: true })),
    chainVerification: {
      sinks: config.audit.sinks.filter((s) => s.type === 'file').map((s) => ({
        path: (s as { path: string }).path, files: [(s as { path: string }).path],
        result: { ok: true, events: 42, checkpoints: 2, replicas: [{ replica: 'r1', firstSeq: 1, lastSeq: 42, lastCheckpointSeq: 42 }], notes: [] }
      }))
    },
    secrets: {
      error: null,
      keys: [{ name: 'totp-encryption', weak: false, fingerprint: 'a' }, { name: 'masking-hmac', weak: false, fingerprint: 'b' }, { name: 'audit-chain-hmac', weak: false, fingerprint: 'c' }],
      duplicates: []
    },
    recordedConfigHashes: ['older', hash],
    configHash: hash,
    certificate: { path: config.tls.cert, error: null, subject: 'CN=gatehouse.example.com', issuer: 'CN=Example CA', notAfter: new Date(NOW + 200 * DAY).toISOString(), development: false },
    dependencyScans: {
      dir: config.compliance.scanDir,
      scans: [
        { file: 'npm-audit.json', scanner: 'npm-audit', target: 'gatehouse npm production dependencies', scannedAt: new Date(NOW - DAY).toISOString(), counts: { critical: 0, high: 0, moderate: 1, low: 0, info: 0 }, blocking: [] },
        { file: 'trivy-gatehouse.json', scanner: 'trivy', target: 'gatehouse:0.1.0', scannedAt: new Date(NOW - 2 * DAY).toISOString(), counts: { critical: 0, high: 0, moderate: 0, low: 3, info: 0 }, blocking: [] }
      ],
      unreadable: [],
      sbom: null
    }
  }
}
