// Shared set-up for the audit tests: a temp dir, keys, a config, and helpers to read what was written.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { manualClock } from '../../helpers/clock.js'
import { eventually } from '../../helpers/eventually.js'
import type { GatehouseConfig, SinkConfig } from '../../../src/config/schema.js'
import { createAuditLog, type AuditInput, type AuditLog } from '../../../src/audit/index.js'
import { generateAuditKeys } from '../../helpers/audit-keys.js'
import type { AuditLogDeps } from '../../../src/audit/audit-log.js'

export const keys = generateAuditKeys()
export const verifyKeys = { chainKey: keys.chainKey, checkpointPublicKey: keys.checkpointPublicKey }
/** what the retention sweep holds: it also signs retention checkpoints */
export const sweepKeys = { ...verifyKeys, checkpointKey: keys.checkpointKey }

export function tempDir (): { dir: string, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function auditConfig (sinks: SinkConfig[], over: Partial<GatehouseConfig['audit']> = {}): GatehouseConfig['audit'] {
  return { failClosed: true, sinks, checkpoint: { everyEvents: 1000, everySeconds: 60 }, replicaId: null, retentionDays: null, ...over }
}

export const fileSink = (path: string, maxBytes = 104857600): SinkConfig => ({ type: 'file', path, maxBytes, flushIntervalMs: 100 })

export function openLog (config: GatehouseConfig['audit'], over: Partial<AuditLogDeps> = {}): Promise<AuditLog> {
  return createAuditLog({
    config,
    chainKey: keys.chainKey,
    checkpointKey: keys.checkpointKey,
    replicaId: 'r1',
    clock: manualClock(Date.UTC(2026, 10, 26, 12, 0, 0)),
    hostName: 'gw-test',
    ...over
  })
}

/** A sample of every kind of input, cycling through actions. */
export function sampleInput (i: number): AuditInput {
  const kinds: AuditInput[] = [
    { action: 'login', outcome: 'failure', userName: 'alice', sourceIp: '203.0.113.7', requestId: `req-${i}`, reason: 'bad_password' },
    {
      action: 'model-request',
      outcome: 'success',
      userName: 'bob',
      sourceIp: '198.51.100.2',
      requestId: `req-${i}`,
      request: {
        method: 'POST', path: '/api/chat', status: 200, durationNs: 1_234_567n, model: 'llama3.2:latest',
        inputTokens: 12, outputTokens: 34, decision: 'allow', credential: 'session', masked: { email: 1 }
      }
    },
    { action: 'user-created', outcome: 'success', userName: 'admin', target: { userName: 'carol', role: 'user' } },
    { action: 'key-revoked', outcome: 'success', userName: 'admin', target: { keyId: 'k_1', keyName: 'ci' } }
  ]
  return kinds[i % kinds.length] as AuditInput
}

export function lines (path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0)
}

export async function writeEvents (log: AuditLog, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) log.emit(sampleInput(i))
  await log.flush()
}

/** Checkpoints are written asynchronously: waits until `<log>.checkpoints` holds at least `n` lines. */
export async function checkpointsReach (logPath: string, n: number, timeoutMs = 5000): Promise<void> {
  const file = logPath + '.checkpoints'
  await eventually(() => expect(existsSync(file) ? lines(file).length : 0, `checkpoints in ${file}`).toBeGreaterThanOrEqual(n), { timeoutMs, intervalMs: 5 })
}

/** A write(2) for a file sink (`tuning.fileWrite`) that fails like a full disk while `disk.failing` is set. */
export function fullDisk (): { disk: { failing: boolean }, write: (fd: number, buf: Buffer, off: number, len: number) => number } {
  const disk = { failing: false }
  const write = (fd: number, buf: Buffer, off: number, len: number): number => {
    if (disk.failing) throw Object.assign(new Error('no space'), { code: 'ENOSPC' })
    return writeSync(fd, buf, off, len)
  }
  return { disk, write }
}
