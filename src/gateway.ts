// The composition root: builds every service from the configuration and hands them to buildApp.
// The `serve` command and the integration tests both start Gatehouse through here.
import type { FastifyInstance } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { configHash } from './config/load.js'
import { buildApp } from './app.js'
import { openCoreServices } from './services.js'
import type { Secrets } from './config/secrets.js'
import type { AuditLog } from './audit/index.js'
import type { Auth } from './auth/index.js'
import type { PasswordHasher } from './auth/passwords.js'
import type { Upstream } from './proxy/upstream.js'
import { createFleet, type Fleet } from './fleet/fleet.js'
import { isEjected, isHealthy } from './fleet/host-state.js'
import { createFleetTargets } from './pipeline/fleet-targets.js'
import { upstreamViews } from './fleet/view.js'
import { systemClock, type Clock } from './clock.js'
import type { StoreBackend } from './store/types.js'
import type { SharedState } from './cluster-state/types.js'
import { createPolicy, type Policy } from './rbac/policy.js'
import { createAuthorizeGuard } from './rbac/guard.js'
import { createRawOutputRule } from './rbac/raw-output.js'
import { createMaskingEngine, type MaskingEngine } from './masking/index.js'
import { adminRoutes } from './admin/routes.js'
import { consoleRoutes } from './console/routes.js'
import { createAuditQuery } from './ops/audit-query.js'
import { complianceReport } from './ops/compliance.js'
import { collectComplianceInput } from './ops/compliance-input.js'
import { createAuditGate, createPromptMaskingGuard, createReplyStages, createResponseAudit, proxyGuards } from './pipeline/index.js'
import { createMetrics, type Metrics } from './ops/metrics.js'
import { metricsRoute } from './ops/metrics-route.js'
import { createLoadShedding } from './ops/load-shedding.js'
import { createRateLimitGuard } from './ops/rate-limit.js'
import { readLastConfigHash, writeLastConfigHash } from './ops/config-history.js'
import { certificateNotAfterSeconds } from './tls/server-options.js'
import { readFileSync } from 'node:fs'
import { installControlSurface } from './pipeline/control-surface.js'
import { createProxyCsrfGuard } from './auth/csrf.js'
import { errors } from './errors.js'
import { createSharedState } from './cluster-state/index.js'
import { createQuotaGuard, createUsageMeter, createUsageRetention, createUsageWriter, parseSince, usageReport } from './quotas/index.js'
import { createRetentionSweep, type RetentionSweep } from './ops/retention-sweep.js'

export interface GatewayOptions {
  clock?: Clock
  logger?: boolean | Record<string, unknown>
  /** how long open streams may run after SIGTERM before they are cut */
  drainDeadlineMs?: number
  /** environment for secrets (GATEHOUSE_*_KEY); process.env by default */
  env?: NodeJS.ProcessEnv
  /** how passwords are hashed; argon2id with OWASP parameters by default */
  passwords?: PasswordHasher
  /** how often buffered usage records are written (default 1000 ms) */
  usageFlushMs?: number
}

export interface Gateway {
  app: FastifyInstance
  config: GatehouseConfig
  /** the first configured host's pool (the only one with `upstream.url`) */
  upstream: Upstream
  /** every Ollama host, their models and health */
  fleet: Fleet
  store: StoreBackend
  sharedState: SharedState
  audit: AuditLog
  auth: Auth
  policy: Policy
  masking: MaskingEngine | null
  metrics: Metrics
  secrets: Secrets
  /** writes the buffered usage records now */
  flushUsage: () => Promise<void>
  /** deletes usage records older than usage.retentionDays now (a daily timer does it too); returns how many */
  sweepUsage: () => Promise<number>
  /** the token counters the quotas read (Redis, or the store) */
  quotaCounters: SharedState
  /** the daily disposal sweep (audit retention, store purge); run() sweeps at once */
  retention: RetentionSweep
  /** stop accepting, let open requests finish up to the drain deadline, then flush and close everything */
  shutdown: () => Promise<void>
  /** app.close(): once the last request has ended, the app's onClose hook releases the upstream pool and the core services */
  close: () => Promise<void>
}

export async function createGateway (config: GatehouseConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock
  // metrics first: every audit event also feeds the auth-failure and lockout counters; the fleet's
  // hosts are read at scrape time, once it exists
  let fleetRef: Fleet | null = null
  const metrics = createMetrics({
    upstreams: () => (fleetRef?.hosts ?? []).map((h) => ({ name: h.name, healthy: isHealthy(h, clock.now()), inFlight: h.inFlight })),
    tlsCertificateExpiry: config.tls.enabled ? certificateNotAfterSeconds(readFileSync(config.tls.cert)) : null
  })
  const core = await openCoreServices(config, { clock, env: options.env, passwords: options.passwords,
    observe: (e) => metrics.observeAudit(e),
    onDetection: (rule) => metrics.detected(rule)
  })
  metrics.readAudit(core.audit)
  const { secrets, store, sharedState, audit, emit, auth } = core
  const hash = configHash(config)
  emit({ action: 'config-loaded', outcome: 'success', config: { hash, previousHash: readLastConfigHash(config.dataDir) } })
  // bookkeeping for the next start's event: a failure to keep it must not stop this start
  let historyError: unknown = null
  try { writeLastConfigHash(config.dataDir, hash) } catch (err) { historyError = err }

  let sweepFailed = (_err: unknown): void => {}
  const retention = createRetentionSweep({
    config, store, emit, clock, onError: (err) => { sweepFailed(err) },
    keys: { chainKey: secrets.auditChainKey, checkpointPublicKey: secrets.auditCheckpoint.publicKey,
      checkpointKey: secrets.auditCheckpoint.privateKey }
  })
  const policy = createPolicy(config.rbac.roles)
  const masking = config.masking.enabled
    ? createMaskingEngine({ entities: config.masking.entities, custom: config.masking.custom, key: secrets.maskingKey })
    : null
  const seesRawOutput = createRawOutputRule(policy, config.masking.exemptRoles)
  const u = config.upstream
  const fleet = createFleet({
    hosts: u.hosts,
    connectTimeoutMs: u.connectTimeoutMs,
    headersTimeoutMs: u.headersTimeoutMs,
    idleTimeoutMs: u.idleTimeoutMs,
    discoveryIntervalMs: u.discoveryIntervalSeconds * 1000,
    healthIntervalMs: u.health.intervalSeconds * 1000,
    failuresToEject: u.health.failuresToEject,
    cooldownMs: u.health.cooldownSeconds * 1000,
    queueTimeoutMs: u.queueTimeoutMs
  }, clock)
  fleetRef = fleet
  // several hosts: the first read of every host's models comes before the first request (bounded by
  // the probe timeout). One host takes every request whatever it lists: its reads wait for the timer.
  if (fleet.hosts.length > 1) await fleet.discover()
  fleet.start()
  const upstream = fleet.upstreamOf(u.hosts[0]?.name ?? '') as Upstream
  // ready while some host answers that is not ejected (one host: while it answers)
  const someHostAnswers = async (): Promise<boolean> => {
    const now = clock.now()
    const live = fleet.hosts.filter((h) => fleet.hosts.length === 1 || !isEjected(h, now))
    const answers = await Promise.all(live.map(async (h) => await fleet.upstreamOf(h.name)?.ping() === true))
    return answers.includes(true)
  }

  // token counts must outlive a restart: without Redis they live in the store, even a single SQLite replica's
  const quotaCounters = sharedState.kind === 'memory'
    ? createSharedState({ store, backend: 'store', prefix: config.redis.keyPrefix, clock })
    : sharedState
  const usageWriter = createUsageWriter({
    store,
    clock,
    flushMs: options.usageFlushMs,
    onError: (err, dropped) => { appRef?.log.error({ err, dropped }, 'usage: writing usage records failed; kept for the next flush') }
  })
  const usageRetention = createUsageRetention({
    store,
    clock,
    retentionDays: config.usage.retentionDays,
    onError: (err) => { appRef?.log.error({ err }, 'usage: retention sweep failed') }
  })
  const meter = createUsageMeter({
    counters: quotaCounters,
    writer: usageWriter,
    clock,
    onError: (err) => { appRef?.log.error({ err }, 'usage: adding to the token counters failed') }
  })
  let appRef: FastifyInstance | null = null

  // no audit, no access: proxied requests, logins and admin calls get 503 while no sink can write
  const auditGate = createAuditGate(config.audit.failClosed, () => audit.writable())
  // new proxied requests get 503 while the event loop runs behind, so the streams in flight keep their pace
  const loadShedding = createLoadShedding(config.limits.maxEventLoopDelayMs)
  const { headerGuards, guards } = proxyGuards({
    loadShedding: loadShedding?.guard ?? null,
    auditGate,
    cookieOrigin: createProxyCsrfGuard(config.auth.allowedOrigins),
    authenticate: auth.authenticate,
    authorize: createAuthorizeGuard(policy),
    rateLimit: createRateLimitGuard({ sharedState, config: config.rateLimit, clock, observe: metrics }),
    quota: createQuotaGuard({ counters: quotaCounters, rules: config.quotas.rules, clock, observe: metrics, meter }),
    promptMasking: masking !== null && config.masking.direction === 'both' ? createPromptMaskingGuard(masking, seesRawOutput) : null
  })

  let app: FastifyInstance
  try {
    app = await buildApp({
      config,
      targets: createFleetTargets(fleet, clock),
      headerGuards,
      guards,
      stages: createReplyStages({ config, policy, masking, audit, emit, metrics, seesRawOutput }),
      readiness: [
        { name: 'store', check: () => store.ping() },
        { name: 'ollama', check: someHostAnswers },
        { name: 'audit', check: async () => audit.writable() }
      ],
      plugins: [
        metricsRoute(metrics, {
          authenticate: auth.authenticate,
          policy,
          modelVisible: (request, model) => policy.modelAllowed(request.gh.identity?.roles ?? [], model)
        }),
        consoleRoutes(),
        async (audited) => {
          audited.addHook('onRequest', auditGate)
          installControlSurface(audited, { bodyLimit: config.limits.controlBodyBytes, allowedOrigins: config.auth.allowedOrigins })
          await audited.register(auth.routes)
          await audited.register(adminRoutes({
            userAdmin: auth.userAdmin,
            policy,
            authenticateSession: auth.authenticateSessionOnly,
            upstreams: () => upstreamViews(fleet.hosts, clock.now()),
            auditQuery: createAuditQuery(config,
              () => ({ chainKey: secrets.auditChainKey, checkpointPublicKey: secrets.auditCheckpoint.publicKey })),
            compliance: async () => complianceReport(await collectComplianceInput(config, store, { now: clock.now(), secrets })),
            usage: async (since, by) => {
              const ms = parseSince(since)
              if (ms === null) throw new errors.BAD_REQUEST('since: must be a period such as 30d, 12h or 2w (at most 3660d)')
              return await usageReport(store, by, ms, clock.now())
            }
          }))
        }
      ],
      onResponse: [createResponseAudit(emit), metrics.onResponse],
      // usage records still buffered are written before the store closes
      release: [async () => { usageRetention.stop() }, async () => { loadShedding?.stop() }, () => usageWriter.close(),
        () => fleet.close(), () => retention.close(),
        async () => { if (quotaCounters !== sharedState) await quotaCounters.close() }, () => core.close()],
      logger: options.logger ?? false
    })
  } catch (err) {
    await usageWriter.close().catch(() => {})
    await fleet.close()
    await retention.close()
    await core.close()
    throw err
  }
  appRef = app
  usageRetention.start()
  loadShedding?.start()

  if (historyError !== null) {
    app.log.warn({ err: historyError },
      'cannot keep the configuration hash in dataDir: the next config-loaded event will not name this configuration as the previous one')
  }

  // a gateway restarted more often than daily still sweeps: once at start, then on the timer
  sweepFailed = (err) => { app.log.error({ err }, 'retention sweep failed') }
  retention.run().catch(sweepFailed)
  const close = async () => { await app.close() }
  return {
    app, config, upstream, fleet, store, sharedState, audit, auth, policy, masking, metrics, secrets, retention,
    flushUsage: () => usageWriter.flush(),
    sweepUsage: () => usageRetention.sweep(),
    quotaCounters,
    close,
    async shutdown () {
      const deadline = setTimeout(() => { app.server.closeAllConnections() }, options.drainDeadlineMs ?? 30_000)
      deadline.unref()
      try { await close() } finally { clearTimeout(deadline) }
    }
  }
}
