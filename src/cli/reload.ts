// SIGHUP for `gatehouse serve`: re-read the config file and the TLS files without closing the
// listener. A config that fails validation is refused with the same messages as at start and the
// running one keeps serving. What applies live: the TLS certificate, key, client CA file, minimum
// version and ciphers (a new secure context for new connections; open ones keep theirs). Every
// other key is read, validated and reported, and takes effect at the next restart.
import type { SecureContextOptions, Server as TlsServer } from 'node:tls'
import type { Gauge } from 'prom-client'
import { ConfigError } from '../errors.js'
import type { GatehouseConfig } from '../config/schema.js'
import { configHash } from '../config/load.js'
import { certificateNotAfterSeconds, tlsServerOptions } from '../tls/server-options.js'
import { diffConfigs } from '../ops/config-diff.js'
import { readLastConfigHash, writeLastConfigHash } from '../ops/config-history.js'
import type { Gateway } from '../gateway.js'
import type { Io } from './output.js'

/** Keys a reload applies to the running listener (`tls.clientCa` only while it stays set). */
const LIVE_KEYS = ['tls.cert', 'tls.key', 'tls.clientCa', 'tls.minVersion', 'tls.ciphers'] as const

export interface ReloadOutcome {
  ok: boolean
  /** the configuration now in effect: the running one with the new TLS settings when ok */
  inEffect: GatehouseConfig
  /** config keys (dotted paths, top two levels) that changed and wait for a restart */
  needRestart: string[]
}

const keyOf = (path: string): string => path.split('.').slice(0, 2).join('.')

/** Which changed keys a reload cannot apply: everything outside LIVE_KEYS, and mTLS switched on or off. */
export function keysNeedingRestart (running: GatehouseConfig, next: GatehouseConfig): string[] {
  const changed = diffConfigs(running, next).changes.map((c) => keyOf(c.path))
  const mtlsFlip = (running.tls.clientCa === null) !== (next.tls.clientCa === null)
  const out = changed.filter((k) => !(LIVE_KEYS as readonly string[]).includes(k) || (k === 'tls.clientCa' && mtlsFlip))
  return [...new Set(out)].sort()
}

export function reload (gateway: Gateway, running: GatehouseConfig, load: () => GatehouseConfig, io: Io): ReloadOutcome {
  let next: GatehouseConfig
  try {
    next = load()
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`gatehouse: SIGHUP: invalid configuration (${running.configFile ?? 'config'}), still serving the previous one:`)
      for (const p of err.problems) io.err(`  ${p}`)
    } else {
      io.err(`gatehouse: SIGHUP: cannot read the configuration, still serving the previous one: ${(err as Error).message}`)
    }
    return { ok: false, inEffect: running, needRestart: [] }
  }
  const needRestart = keysNeedingRestart(running, next)
  const tlsLive = running.tls.enabled && next.tls.enabled
  // mTLS on or off is a listener option, not part of the secure context: that waits for a restart
  const sameMode = (running.tls.clientCa === null) === (next.tls.clientCa === null)
  const tls = { ...next.tls, clientCa: sameMode ? next.tls.clientCa : running.tls.clientCa }
  if (tlsLive) {
    let options: SecureContextOptions
    try {
      options = tlsServerOptions(tls)
      ;(gateway.app.server as unknown as TlsServer).setSecureContext(options)
    } catch (err) {
      io.err(`gatehouse: SIGHUP: cannot load the TLS certificate and key, still serving the previous ones: ${(err as Error).message}`)
      return { ok: false, inEffect: running, needRestart: [] }
    }
    const gauge = gateway.metrics.registry.getSingleMetric('gatehouse_tls_certificate_expiry_timestamp_seconds') as Gauge | undefined
    gauge?.set(certificateNotAfterSeconds(options.cert as Buffer))
  }
  const hash = configHash(next)
  gateway.audit.emit({ action: 'config-loaded', outcome: 'success', config: { hash, previousHash: readLastConfigHash(running.dataDir) } })
  try { writeLastConfigHash(running.dataDir, hash) } catch { /* the event above already names the hash */ }
  io.err(`gatehouse: SIGHUP: configuration reloaded (sha256 ${hash.slice(0, 12)})${tlsLive ? '; TLS certificate and key re-read' : ''}` +
    (needRestart.length > 0 ? `; changes to ${needRestart.join(', ')} take effect at the next restart` : ''))
  return { ok: true, inEffect: tlsLive ? { ...running, tls } : running, needRestart }
}
