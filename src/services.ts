// The services both the gateway and the account commands of the CLI stand on: secrets, the store,
// shared counters, the audit log and the identity module — built one way, closed one way.
import { hostname } from 'node:os'
import type { GatehouseConfig } from './config/schema.js'
import { loadSecrets, redisUrlWithPassword, type Secrets } from './config/secrets.js'
import type { Clock } from './clock.js'
import { createStore } from './store/index.js'
import type { StoreBackend } from './store/types.js'
import { createSharedState } from './cluster-state/index.js'
import type { SharedState } from './cluster-state/types.js'
import { createAuditLog, createRefusalAggregator, type AuditInput, type AuditLog } from './audit/index.js'
import { createAuth, type Auth } from './auth/index.js'
import type { PasswordHasher } from './auth/passwords.js'
import { createDetector, type Detector, type DetectionRule } from './detection/detector.js'

export interface CoreServices {
  secrets: Secrets
  store: StoreBackend
  sharedState: SharedState
  audit: AuditLog
  /** writes an audit event (and tells `observe`, e.g. metrics); returns its seq */
  emit: (e: AuditInput) => number
  auth: Auth
  /** intrusion detection over every event `emit` writes; null unless asked for (the gateway does) */
  detector: Detector | null
  close: () => Promise<void>
}

export interface CoreOptions {
  clock: Clock
  /** environment for secrets (GATEHOUSE_*_KEY); process.env by default */
  env?: NodeJS.ProcessEnv
  /** appended to the replica id: the CLI keeps a chain of its own (`-cli`) */
  replicaSuffix?: string
  observe?: (e: AuditInput) => void
  /** how passwords are hashed; argon2id with OWASP parameters by default */
  passwords?: PasswordHasher
  /** run intrusion detection (config.detection) over every event; called once per alert raised */
  onDetection?: (rule: DetectionRule) => void
}

/** The audit replica id: config.audit.replicaId or the host name, in the characters a chain allows. */
function replicaIdOf (config: GatehouseConfig, suffix = ''): string {
  const base = (config.audit.replicaId ?? hostname()).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64 - suffix.length)
  return (base || 'gatehouse') + suffix
}

export async function openCoreServices (config: GatehouseConfig, o: CoreOptions): Promise<CoreServices> {
  const secrets = loadSecrets(config, o.env)
  const store = await createStore(config.store.url)
  const sharedState = createSharedState({ redisUrl: redisUrlWithPassword(config.redis.url, secrets.redisPassword), store,
    prefix: config.redis.keyPrefix, clock: o.clock })
  const audit = await createAuditLog({
    config: config.audit,
    chainKey: secrets.auditChainKey,
    checkpointKey: secrets.auditCheckpoint.privateKey,
    replicaId: replicaIdOf(config, o.replicaSuffix),
    clock: o.clock,
    hostName: hostname()
  })
  // a flood of refused, unauthenticated requests is written as counts, not line by line
  const refusals = createRefusalAggregator({
    emit: (e) => audit.emit(e), clock: o.clock, windowMs: config.auth.unauthenticated.auditWindowSeconds * 1000
  })
  const detector = o.onDetection !== undefined
    ? createDetector({ config: config.detection, sharedState, clock: o.clock, emit: (e) => { emit(e) }, onDetection: o.onDetection })
    : null
  const observe = o.observe
  // every event (refusals before they are folded into counts) is seen by the observer and the detector
  const emit = (e: AuditInput) => { const seq = refusals.submit(e); observe?.(e); detector?.observe(e); return seq }
  const auth = createAuth({
    config, store, sharedState, signingKey: secrets.jwt, totpKey: secrets.totpKey, clock: o.clock, audit: emit, passwords: o.passwords,
    oidcClientSecret: secrets.oidcClientSecret
  })
  return {
    secrets, store, sharedState, audit, emit, auth, detector,
    async close () {
      await detector?.idle()
      refusals.close()
      await audit.close()
      await sharedState.close()
      await store.close()
    }
  }
}
