// Prometheus metrics. One Registry per createMetrics() call — never prom-client's global default —
// so tests and several apps in one process do not share counters. A model name becomes a label only
// once Ollama has shown it has the model (listed by /api/tags or /api/ps, or answered 2xx to a request
// naming it), up to a bound; every other name counts under `_other`, so junk names can neither add
// series nor push real models out. A scrape shows each caller only the model labels it may use.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditInput } from '../audit/types.js'
import { DETECTION_RULES } from '../detection/detector.js'

export interface AuditStats { sinkErrors: number, dropped: number, queueDepth: number }

export interface AuditSinkState { type: string, writable: boolean }

export interface MetricsOptions {
  /** read at scrape time: the audit log's stats() (or given later, through readAudit) */
  auditStats?: () => AuditStats
  /** read at scrape time: the audit log's sinks(), in config order */
  auditSinks?: () => AuditSinkState[]
  /** notAfter of the server certificate the listener loaded, in Unix seconds; null or absent with TLS off */
  tlsCertificateExpiry?: number | null
  /** process_* and nodejs_* metrics (default true) */
  defaultMetrics?: boolean
  /** read at scrape time: every Ollama host of the fleet */
  upstreams?: () => Array<{ name: string, healthy: boolean, inFlight: number }>
  /** distinct model label values learnt before new ones become `_other` (default 200) */
  maxModels?: number
}

export interface RequestObservation {
  route: string
  model: string | null
  status: number
  role: string | null
  durationSeconds: number
  /** the Ollama host(s) that served it; null when none was chosen */
  upstream?: string | null
}

export interface Metrics {
  readonly registry: Registry
  observeRequest: (o: RequestObservation) => void
  observeTtft: (route: string, model: string | null, seconds: number) => void
  tokens: (model: string | null, input: number | null, output: number | null, role?: string | null, upstream?: string | null) => void
  /** a request refused because a token quota was reached */
  quotaRejected: (period: 'day' | 'month') => void
  streamOpened: () => void
  streamClosed: () => void
  authFailure: (reason: string) => void
  lockout: () => void
  masked: (counts: Record<string, number>) => void
  upstreamError: (kind: string, upstream?: string | null) => void
  rateLimited: (limit: 'requests' | 'streams') => void
  /** an intrusion-detection rule raised an alert */
  detected: (rule: string) => void
  /**
   * An onResponse hook: requests by route/model/status/role, duration, tokens and masked counts,
   * read from request.gh. TTFT, streams, auth failures and upstream errors come from their own call sites.
   */
  onResponse: (request: FastifyRequest, reply: FastifyReply) => void
  /**
   * Feeds auth failures and lockouts from the audit events that already describe them: wrap the
   * audit emitter with it (`(e) => { log.emit(e); metrics.observeAudit(e) }`).
   */
  observeAudit: (input: Pick<AuditInput, 'action' | 'outcome' | 'reason' | 'provider'>) => void
  /**
   * A model name Ollama has shown it has (a /api/tags or /api/ps entry, a 2xx reply for it): it may
   * become a label. Canonical names only.
   */
  learnModel: (model: string) => void
  /** the audit log whose stats and sinks are read at scrape time (it is built after the metrics) */
  readAudit: (source: { stats: () => AuditStats, sinks: () => AuditSinkState[] }) => void
  /** Prometheus text exposition; model labels `visible` refuses are folded into `_other` */
  render: (visible?: (model: string) => boolean) => Promise<string>
  readonly contentType: string
}

const AUTH_ACTIONS = new Set(['login', 'mfa-verify', 'mfa-enroll', 'token-rejected', 'totp-replay'])

const OTHER = '_other'
const NONE = ''

/** routes whose 2xx reply shows that Ollama has the model named (pull, push and create answer 200 even for unknown names) */
const LEARNING_PERMISSIONS = new Set(['inference', 'models:read'])

// A label must not carry arbitrary client bytes: anything outside this set is folded to `_other`
// ("," joins the hosts of a request sent to several).
const SAFE_LABEL = /^[A-Za-z0-9 ._:/@*,-]{1,128}$/
const safe = (v: string): string => (v === NONE || SAFE_LABEL.test(v) ? v : OTHER)

export function createMetrics (options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  const registers = [registry]
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const maxModels = options.maxModels ?? 200
  const known = new Set<string>()
  const learnModel = (m: string) => {
    if (known.size < maxModels && SAFE_LABEL.test(m)) known.add(m)
  }
  const model = (m: string | null) => (m === null || m === '' ? NONE : known.has(m) ? m : OTHER)

  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests answered, by route, model, status, role and the Ollama host that served it',
    labelNames: ['route', 'model', 'status', 'role', 'upstream'] as const,
    registers
  })
  const duration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'Time from request to the end of the reply (streams included)',
    labelNames: ['route', 'status'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers
  })
  const ttft = new Histogram({
    name: 'gatehouse_time_to_first_token_seconds',
    help: 'Time from request to the first chunk of a model reply reaching the client',
    labelNames: ['route', 'model'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers
  })
  const tokenCounter = new Counter({
    name: 'gatehouse_tokens_total',
    help: 'Model tokens as Ollama reports them, by model, direction (input|output), the caller\'s first role and the Ollama host',
    labelNames: ['model', 'direction', 'role', 'upstream'] as const,
    registers
  })
  const quotaRejections = new Counter({
    name: 'gatehouse_quota_rejections_total',
    help: 'Requests refused because a token quota was reached, by period (day|month)',
    labelNames: ['period'] as const,
    registers
  })
  const activeStreams = new Gauge({ name: 'gatehouse_active_streams', help: 'Streamed replies in progress on this replica', registers })
  const authFailures = new Counter({
    name: 'gatehouse_auth_failures_total',
    help: 'Failed authentications, by reason',
    labelNames: ['reason'] as const,
    registers
  })
  const detections = new Counter({
    name: 'gatehouse_detections_total',
    help: 'Intrusion-detection alerts raised, by rule',
    labelNames: ['rule'] as const,
    registers
  })
  // every rule's series exists from the start, so increase() sees the first alert
  for (const rule of DETECTION_RULES) detections.inc({ rule }, 0)
  const lockouts = new Counter({ name: 'gatehouse_lockouts_total', help: 'Accounts locked after repeated failures', registers })
  const ssoLogins = new Counter({
    name: 'gatehouse_sso_logins_total',
    help: 'Single sign-on callbacks, by outcome (a success may still be followed by the local TOTP step)',
    labelNames: ['outcome'] as const,
    registers
  })
  const maskedCounter = new Counter({
    name: 'gatehouse_masked_entities_total',
    help: 'PII entities masked in model output, by type',
    labelNames: ['type'] as const,
    registers
  })
  const upstreamErrors = new Counter({
    name: 'gatehouse_upstream_errors_total',
    help: 'Failures talking to Ollama, by kind (unavailable, timeout, mid-stream) and host',
    labelNames: ['kind', 'upstream'] as const,
    registers
  })
  const rateLimitedCounter = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused with 429 by the per-identity limits, by limit',
    labelNames: ['limit'] as const,
    registers
  })

  const hostHealthy = new Gauge({
    name: 'gatehouse_upstream_healthy',
    help: 'Whether each Ollama host takes requests (1) or is out (0): ejected, or its models never read',
    labelNames: ['upstream'] as const,
    registers,
    collect () { for (const h of options.upstreams?.() ?? []) hostHealthy.set({ upstream: safe(h.name) }, h.healthy ? 1 : 0) }
  })
  const hostInFlight = new Gauge({
    name: 'gatehouse_upstream_in_flight',
    help: 'Requests in progress on each Ollama host',
    labelNames: ['upstream'] as const,
    registers,
    collect () { for (const h of options.upstreams?.() ?? []) hostInFlight.set({ upstream: safe(h.name) }, h.inFlight) }
  })

  // Audit figures are cumulative counts owned by the audit log; counters follow them by delta at scrape time.
  let auditStats = options.auditStats
  let auditSinks = options.auditSinks
  /** A counter that follows a cumulative figure read at scrape time, by what it grew since the last scrape. */
  const following = (name: string, help: string, read: () => number | undefined): void => {
    let last = 0
    new Counter({
      name, help, registers,
      collect () {
        const now = read()
        if (now !== undefined && now > last) { this.inc(now - last); last = now }
      }
    })
  }
  following('gatehouse_audit_sink_errors_total', 'Audit sink write failures', () => auditStats?.().sinkErrors)
  following('gatehouse_audit_events_dropped_total', 'Audit events a sink dropped (syslog queue overflow)', () => auditStats?.().dropped)
  const sinkUp = new Gauge({
    name: 'gatehouse_audit_sink_up',
    help: 'Whether each audit sink can write now (1) or not (0), by position in the config and type',
    labelNames: ['index', 'type'] as const,
    registers,
    collect () {
      const sinks = auditSinks?.() ?? []
      sinks.forEach((s, i) => { sinkUp.set({ index: String(i), type: safe(s.type) }, s.writable ? 1 : 0) })
    }
  })
  const failClosedRefusals = new Counter({
    name: 'gatehouse_audit_fail_closed_refusals_total',
    help: 'Requests refused with 503 because no audit sink could write (audit.failClosed)',
    registers
  })
  const shed = new Counter({
    name: 'gatehouse_requests_shed_total',
    help: 'Proxied requests refused with 503 while the event loop ran behind (limits.maxEventLoopDelayMs)',
    registers
  })
  if (typeof options.tlsCertificateExpiry === 'number') {
    new Gauge({
      name: 'gatehouse_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the server certificate the listener loaded, as a Unix timestamp',
      registers
    }).set(options.tlsCertificateExpiry)
  }
  new Gauge({
    name: 'gatehouse_audit_queue_depth',
    help: 'Audit events waiting to be written by a sink',
    registers,
    collect () { this.set(auditStats?.().queueDepth ?? 0) }
  })

  const addTokens = (m: string | null, input: number | null, output: number | null, role: string | null = null,
    upstream: string | null = null) => {
    const labels = { model: model(m), role: safe(role ?? NONE), upstream: safe(upstream ?? NONE) }
    if (typeof input === 'number' && input > 0) tokenCounter.inc({ ...labels, direction: 'input' }, input)
    if (typeof output === 'number' && output > 0) tokenCounter.inc({ ...labels, direction: 'output' }, output)
  }
  const addMasked = (counts: Record<string, number>) => {
    for (const [type, n] of Object.entries(counts)) if (n > 0) maskedCounter.inc({ type: safe(type) }, n)
  }
  const observeRequest = (o: RequestObservation) => {
    const status = String(o.status)
    requests.inc({ route: safe(o.route), model: model(o.model), status, role: safe(o.role ?? NONE), upstream: safe(o.upstream ?? NONE) })
    duration.observe({ route: safe(o.route), status }, Math.max(0, o.durationSeconds))
  }

  return {
    registry,
    contentType: registry.contentType,
    observeRequest,
    observeTtft: (route, m, seconds) => { ttft.observe({ route: safe(route), model: model(m) }, Math.max(0, seconds)) },
    tokens: addTokens,
    streamOpened: () => { activeStreams.inc() },
    streamClosed: () => { activeStreams.dec() },
    authFailure: (reason) => { authFailures.inc({ reason: safe(reason) }) },
    lockout: () => { lockouts.inc() },
    masked: addMasked,
    upstreamError: (kind, upstream) => { upstreamErrors.inc({ kind: safe(kind), upstream: safe(upstream ?? NONE) }) },
    rateLimited: (limit) => { rateLimitedCounter.inc({ limit }) },
    detected: (rule) => { detections.inc({ rule: (DETECTION_RULES as readonly string[]).includes(rule) ? rule : OTHER }) },
    quotaRejected: (period) => { quotaRejections.inc({ period }) },
    onResponse (request, reply) {
      const gh = request.gh
      // only a model the policy allowed becomes a label: denied requests may name anything
      const allowedModel = gh?.decision === 'allow' ? (gh.models[0] ?? null) : null
      const role = gh?.identity?.roles[0] ?? null
      const permission = gh?.route?.permission
      const succeeded = reply.statusCode >= 200 && reply.statusCode < 300
      if (allowedModel !== null && succeeded && permission !== undefined && LEARNING_PERMISSIONS.has(permission)) {
        learnModel(allowedModel)
      }
      observeRequest({
        route: gh?.route?.id ?? (request.routeOptions.url ? `${request.method} ${request.routeOptions.url}` : 'unmatched'),
        model: allowedModel,
        status: reply.statusCode,
        role,
        durationSeconds: reply.elapsedTime / 1000,
        upstream: gh?.upstream ?? null
      })
      if (gh?.reason === 'audit-unavailable' && reply.statusCode === 503) failClosedRefusals.inc()
      if (gh?.reason === 'overloaded' && reply.statusCode === 503) shed.inc()
      if (gh) {
        addTokens(allowedModel, gh.usage.input, gh.usage.output, role, gh.upstream)
        addMasked(gh.masked)
      }
    },
    observeAudit (input) {
      if (input.action === 'login' && input.provider === 'oidc') {
        ssoLogins.inc({ outcome: input.outcome === 'success' ? 'success' : 'failure' })
      }
      if (input.action === 'account-locked') lockouts.inc()
      else if (input.outcome === 'failure' && AUTH_ACTIONS.has(input.action)) {
        authFailures.inc({ reason: safe(input.reason ?? input.action) })
      }
    },
    readAudit: (source) => {
      auditStats = () => source.stats()
      auditSinks = () => source.sinks()
    },
    learnModel,
    render: async (visible) => {
      const text = await registry.metrics()
      return visible === undefined ? text : foldModelLabels(text, visible)
    }
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/
// label values written by this module never hold `"` or `\` (SAFE_LABEL), so this cannot misparse
const MODEL_LABEL = /(^|,)model="([^"]*)"/

/**
 * The exposition with every model label `visible` refuses renamed `_other`, and the samples that
 * then share a series summed (counters, histogram buckets, sums and counts all add up).
 */
export function foldModelLabels (text: string, visible: (model: string) => boolean): string {
  const out: string[] = []
  const sums = new Map<string, { index: number, name: string, labels: string, value: number }>()
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line)
    const label = m === null ? null : MODEL_LABEL.exec(m[2] as string)
    if (m === null || label === null) { out.push(line); continue }
    const value = label[2] as string
    const labels = value === NONE || value === OTHER || visible(value)
      ? m[2] as string
      : (m[2] as string).replace(MODEL_LABEL, `$1model="${OTHER}"`)
    const key = `${m[1] as string}{${labels}}`
    const seen = sums.get(key)
    if (seen === undefined) {
      sums.set(key, { index: out.length, name: m[1] as string, labels, value: Number(m[3]) })
      out.push(`${key} ${m[3] as string}`)
    } else {
      seen.value += Number(m[3])
      out[seen.index] = `${key} ${seen.value}`
    }
  }
  return out.join('\n')
}
