// The composition root: builds every service from the configuration and hands them to buildApp.
// The `serve` command and the integration tests both start Gatehouse through here.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { configHash } from './config/load.js'
import { buildApp } from './app.js'
import { openCoreServices, type CoreServices } from './services.js'
import type { Secrets } from './config/secrets.js'
import type { AuditLog } from './audit/index.js'
import type { Auth } from './auth/index.js'
import { createUpstream, type Upstream } from './proxy/upstream.js'
import { systemClock, type Clock } from './clock.js'
import type { StoreBackend } from './store/types.js'
import type { SharedState } from './shared-state/types.js'
import { createPolicy, type Policy } from './rbac/policy.js'
import { createAuthorizeGuard } from './rbac/guard.js'
import { createMaskingEngine, type MaskingEngine } from './masking/index.js'
import { errors } from './errors.js'
import { adminRoutes } from './admin/routes.js'
import { createAuditGate } from './pipeline/audit-gate.js'
import { requestAuditInput } from './pipeline/request-audit.js'
import { createReplyStages } from './pipeline/reply-stages.js'
import { createPromptMaskingGuard } from './pipeline/prompt-masking.js'
import { createMetrics, type Metrics } from './ops/metrics.js'
import { metricsRoute } from './ops/metrics-route.js'
import { createRateLimitGuard } from './ops/rate-limit.js'
import { readLastConfigHash, writeLastConfigHash } from './ops/config-history.js'
import { certificateNotAfterSeconds } from './tls/server-options.js'
import { readFileSync } from 'node:fs'

export interface GatewayOptions {
  clock?: Clock
  logger?: boolean | Record<string, unknown>
  /** how long open streams may run after SIGTERM before they are cut */
  drainDeadlineMs?: number
  /** environment for secrets (GATEHOUSE_*_KEY); process.env by default */
  env?: NodeJS.ProcessEnv
}

export interface Gateway {
  app: FastifyInstance
  config: GatehouseConfig
  upstream: Upstream
  store: StoreBackend
  sharedState: SharedState
  audit: AuditLog
  auth: Auth
  policy: Policy
  masking: MaskingEngine | null
  metrics: Metrics
  secrets: Secrets
  /** stop accepting, let open requests finish up to the drain deadline, then flush and close everything */
  shutdown: () => Promise<void>
  close: () => Promise<void>
}

const isDecisionPath = (url: string) => !url.startsWith('/auth/') && url !== '/healthz' && url !== '/readyz'

export async function createGateway (config: GatehouseConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock
  let core: CoreServices | null = null
  const metrics = createMetrics({
    auditStats: () => (core as CoreServices).audit.stats(),
    auditSinks: () => (core as CoreServices).audit.sinks(),
    tlsCertificateExpiry: config.tls.enabled ? certificateNotAfterSeconds(readFileSync(config.tls.cert)) : null
  })
  // every event also feeds the auth-failure and lockout counters
  core = await openCoreServices(config, { clock, env: options.env, observe: (e) => metrics.observeAudit(e) })
  const { secrets, store, sharedState, audit, emit, auth } = core
  const hash = configHash(config)
  emit({ action: 'config-loaded', outcome: 'success', config: { hash, previousHash: readLastConfigHash(config.dataDir) } })
  // bookkeeping for the next start's event: a failure to keep it must not stop this start
  let historyError: unknown = null
  try { writeLastConfigHash(config.dataDir, hash) } catch (err) { historyError = err }

  const policy = createPolicy(config.rbac.roles)
  const masking = config.masking.enabled
    ? createMaskingEngine({ entities: config.masking.entities, custom: config.masking.custom, key: secrets.maskingKey })
    : null
  const upstream = createUpstream(config.upstream)

  const exemptRoles = new Set(config.masking.exemptRoles)
  const seesRawOutput = (request: FastifyRequest): boolean => {
    const roles = request.gh.identity?.roles ?? []
    return roles.some((r) => exemptRoles.has(r)) || policy.permits(roles, 'pii:unmasked')
  }
  const masksReply = (request: FastifyRequest) => masking !== null && !seesRawOutput(request)

  const stages = createReplyStages({ config, policy, masking, audit, emit, metrics, masksReply })

  // no audit, no access: proxied requests, logins and admin calls get 503 while no sink can write
  const auditGate = createAuditGate(config.audit.failClosed, () => audit.writable())
  const guards = [
    auditGate,
    auth.authenticate,
    createAuthorizeGuard(policy),
    ...(masking !== null && config.masking.direction === 'both'
      ? [createPromptMaskingGuard(masking, seesRawOutput)]
      : []),
    createRateLimitGuard({ sharedState, config: config.rateLimit, clock, observe: metrics })
  ]
  const requireMetricsRead = async (request: FastifyRequest) => {
    if (policy.permits(request.gh.identity?.roles ?? [], 'metrics:read')) return
    request.gh.reason = 'permission:metrics:read'
    throw new errors.FORBIDDEN()
  }

  const app = await buildApp({
    config,
    upstream,
    guards,
    stages,
    readiness: [
      { name: 'store', check: () => store.ping() },
      { name: 'ollama', check: () => upstream.ping() },
      { name: 'audit', check: async () => audit.writable() }
    ],
    plugins: [
      metricsRoute(metrics, { preHandler: [auth.authenticate, requireMetricsRead] }),
      async (audited) => {
        audited.addHook('onRequest', auditGate)
        await audited.register(auth.routes)
        await audited.register(adminRoutes({ userAdmin: auth.userAdmin, policy, authenticateSession: auth.authenticateSessionOnly }))
      }
    ],
    onResponse: async (request, reply) => {
      const ctx = request.gh
      // every decision is an event: proxied requests not yet audited (denials, bad requests, upstream
      // errors) and any other refusal — /admin, /metrics, probes of unrouted paths. /auth/* records
      // its own events; health checks are not decisions.
      if (ctx && !ctx.audited && (ctx.route !== null || (reply.statusCode >= 400 && isDecisionPath(request.url)))) {
        ctx.audited = true
        emit(requestAuditInput(request, reply.statusCode))
      }
      metrics.onResponse(request, reply)
    },
    logger: options.logger ?? false
  })
  if (historyError !== null) app.log.warn({ err: historyError }, 'cannot keep the configuration hash in dataDir: the next config-loaded event will not name this configuration as the previous one')

  const close = async () => {
    await app.close()
    await upstream.close()
    await (core as CoreServices).close()
  }
  return {
    app, config, upstream, store, sharedState, audit, auth, policy, masking, metrics, secrets,
    close,
    async shutdown () {
      const deadline = setTimeout(() => { app.server.closeAllConnections() }, options.drainDeadlineMs ?? 30_000)
      deadline.unref()
      try { await close() } finally { clearTimeout(deadline) }
    }
  }
}

