// The composition root: builds every service from the configuration and hands them to buildApp.
// server.ts (the `serve` command) and the integration tests both start Gatehouse through here.
import { hostname } from 'node:os'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { configHash } from './config/load.js'
import { loadSecrets, redisUrlWithPassword, type Secrets } from './config/secrets.js'
import { buildApp } from './app.js'
import { createUpstream, type Upstream } from './proxy/upstream.js'
import { systemClock, type Clock } from './clock.js'
import type { Io } from './cli/output.js'
import { createStore } from './store/index.js'
import type { StoreBackend } from './store/types.js'
import { createSharedState } from './shared-state/index.js'
import type { SharedState } from './shared-state/types.js'
import { createAuditLog, type AuditLog } from './audit/index.js'
import { createAuth, type Auth } from './auth/index.js'
import { revokedSessionKey } from './auth/credential-loaders.js'
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
import type { AuditInput } from './audit/index.js'

export interface GatewayOptions {
  clock?: Clock
  logger?: boolean | Record<string, unknown>
  /** where first-start messages (bootstrap password) go; stderr by default */
  io?: Io
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

const safeReplicaId = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'gatehouse'

export async function createGateway (config: GatehouseConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock
  const secrets = loadSecrets(config, options.env)
  const store = await createStore(config.store.url)
  const sharedState = createSharedState({ redisUrl: redisUrlWithPassword(config.redis.url, secrets.redisPassword), store, prefix: config.redis.keyPrefix, clock })
  const audit = await createAuditLog({
    config: config.audit,
    chainKey: secrets.auditChainKey,
    checkpointKey: secrets.auditCheckpoint.privateKey,
    replicaId: safeReplicaId(config.audit.replicaId ?? hostname()),
    clock
  })
  const metrics = createMetrics({ auditStats: () => audit.stats() })
  // every event also feeds the auth-failure and lockout counters
  const emit = (e: AuditInput) => { audit.emit(e); metrics.observeAudit(e) }
  emit({ action: 'config-loaded', outcome: 'success', config: { hash: configHash(config) } })

  const policy = createPolicy(config.rbac.roles)
  const auth = createAuth({ config, store, sharedState, signingKey: secrets.jwt, totpKey: secrets.totpKey, clock, audit: emit })
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

  // masking on: a route whose replies the masker cannot read is refused rather than passed through
  const maskingSupport = async (request: FastifyRequest) => {
    const route = request.gh.route
    if (route && masksReply(request) && !(masking as MaskingEngine).supports(route.reply)) {
      request.gh.decision = 'deny'
      request.gh.reason = 'masking-unsupported'
      throw new errors.MASKING_UNSUPPORTED()
    }
  }

  const stages = createReplyStages({ config, policy, masking, audit, emit, metrics, masksReply })

  const guards = [
    createAuditGate(config.audit.failClosed, () => audit.writable()),
    auth.authenticate,
    createAuthorizeGuard(policy),
    maskingSupport,
    ...(masking !== null && config.masking.direction === 'both'
      ? [createPromptMaskingGuard(masking, seesRawOutput)]
      : []),
    createRateLimitGuard({ sharedState, config: config.rateLimit, clock, observe: metrics })
  ]
  const requireMetricsRead = async (request: FastifyRequest) => {
    if (!policy.permits(request.gh.identity?.roles ?? [], 'metrics:read')) throw new errors.FORBIDDEN()
  }

  const revokeSession = async (id: string, actor: { userName?: string, sourceIp?: string, requestId?: string }) => {
    const now = clock.now()
    const session = await store.getSession(id)
    if (!session) return false
    await store.revokeSession(id, now)
    await sharedState.revoke(revokedSessionKey(id), session.expiresAt, now)
    emit({ action: 'logout', outcome: 'success', ...actor, target: { userName: session.username }, reason: 'revoked-by-admin' })
    return true
  }

  const gate = createAuditGate(config.audit.failClosed, () => audit.writable())
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
      async (root) => {
        root.addHook('onRequest', async (request) => {
          if (request.url.startsWith('/auth/') || request.url.startsWith('/admin/')) await gate(request)
        })
        await root.register(auth.routes)
        await root.register(metricsRoute(metrics, { preHandler: [auth.authenticate, requireMetricsRead] }))
        await root.register(adminRoutes({ userAdmin: auth.userAdmin, store, policy, authenticateSession: auth.authenticateSessionOnly, revokeSession }))
      }
    ],
    onResponse: async (request, reply) => {
      // proxied requests that ended before the proxy (denials, bad requests, upstream errors) are audited here
      if (request.gh?.route && !request.gh.audited) emit(requestAuditInput(request, reply.statusCode))
      // a path nothing is routed to (or a wrong method) is a denial too: probes show up in the SIEM
      else if (request.gh && !request.gh.route && (reply.statusCode === 404 || reply.statusCode === 405)) emit(requestAuditInput(request, reply.statusCode))
      metrics.onResponse(request, reply)
    },
    logger: options.logger ?? false
  })

  const close = async () => {
    await app.close()
    await upstream.close()
    await audit.close()
    await sharedState.close()
    await store.close()
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

