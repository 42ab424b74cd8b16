// The configuration contract as a TypeBox JSON Schema, and its TypeScript type derived from it: every
// key has a default and unknown keys are errors. Ajv fills the defaults and reports every problem
// with its key path at once (load.ts).
import { Type, type Static, type TSchema, type TProperties } from 'typebox'

const PERMISSIONS = [
  'inference', 'models:read', 'models:manage', 'models:upload', 'status:read', 'metrics:read', 'admin', 'pii:unmasked', '*'
] as const
export type Permission = (typeof PERMISSIONS)[number]

export const BUILTIN_ENTITIES = ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret', 'ipv4'] as const

/** Role names: what `rbac.roles` keys, `auth.mfa.requiredForRoles` and `masking.exemptRoles` may hold. */
const ROLE_NAME = '^[a-z][a-z0-9_-]{0,63}$'

const DEFAULT_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'
].join(':')

export const DEFAULT_ROLES = {
  admin: { permissions: ['*'], models: ['*'] },
  'model-loader': { permissions: ['models:read', 'models:manage', 'models:upload'], models: ['*'] },
  user: { permissions: ['inference', 'models:read'], models: ['*'] },
  monitor: { permissions: ['status:read', 'metrics:read'], models: [] }
} satisfies Record<string, { permissions: Permission[], models: string[] }>

const int = (minimum: number, dflt: number, maximum?: number) =>
  Type.Integer({ minimum, default: dflt, ...(maximum === undefined ? {} : { maximum }) })
/** A section: unknown keys are errors, and a missing section is all defaults. */
const section = <P extends TProperties>(properties: P) => Type.Object(properties, { additionalProperties: false, default: {} })
const text = (dflt: string) => Type.String({ minLength: 1, default: dflt })
// one `type` list instead of anyOf, so a wrong value is one problem, not one per branch
const nullableString = (extra: Record<string, unknown> = {}) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 1, default: null, ...extra })
const list = <T extends TSchema>(items: T, dflt: unknown[], extra: Record<string, unknown> = {}) =>
  Type.Array(items, { default: dflt, ...extra })

const RoleSchema = Type.Object({
  permissions: Type.Array(Type.Enum([...PERMISSIONS]), { uniqueItems: true }),
  models: list(Type.String({ minLength: 1 }), [])
}, { additionalProperties: false })
export type RoleConfig = Static<typeof RoleSchema>

const FileSink = Type.Object({
  type: Type.Literal('file'),
  path: Type.String({ minLength: 1 }),
  maxBytes: int(1024, 104857600),
  flushIntervalMs: int(1, 100, 100)
}, { additionalProperties: false })
const StdoutSink = Type.Object({ type: Type.Literal('stdout') }, { additionalProperties: false })
const SyslogSink = Type.Object({
  type: Type.Literal('syslog'),
  url: Type.String({ pattern: '^(tcp|tls)://[^/:]+:[0-9]+$' }),
  ca: nullableString(),
  queueSize: int(1, 10000),
  appName: Type.String({ pattern: '^[!-~]{1,48}$', default: 'gatehouse' })
}, { additionalProperties: false })
const SINKS = [FileSink, StdoutSink, SyslogSink]
export type SinkConfig = Static<typeof FileSink> | Static<typeof StdoutSink> | Static<typeof SyslogSink>

// The sink's `type` picks the one branch checked (if/then, not anyOf): each problem is reported
// once, against the sink it belongs to, and that branch's defaults are filled in.
const SinkSchema = Type.Unsafe<SinkConfig>({
  type: 'object',
  required: ['type'],
  properties: { type: { enum: SINKS.map((s) => s.properties.type.const) } },
  allOf: SINKS.map((s) => ({ if: { properties: { type: { const: s.properties.type.const } } }, then: s }))
})

const UpstreamHostSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }),
  url: Type.String({ pattern: '^https?://' }),
  maxConcurrent: Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, default: null })
}, { additionalProperties: false })
export type UpstreamHostConfig = Static<typeof UpstreamHostSchema>

const QuotaRuleSchema = Type.Object({
  role: Type.Optional(Type.String({ pattern: ROLE_NAME })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  key: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  tokensPerDay: Type.Optional(Type.Integer({ minimum: 1 })),
  tokensPerMonth: Type.Optional(Type.Integer({ minimum: 1 }))
}, { additionalProperties: false })
export type QuotaRuleConfig = Static<typeof QuotaRuleSchema>

/** limits.maxEventLoopDelayMs, when not 0 (off): two periods of the load-shedding heartbeat (10 ms) */
export const MIN_EVENT_LOOP_DELAY_MS = 20

export const ConfigSchema = section({
  listen: section({ host: text('127.0.0.1'), port: int(0, 8443, 65535) }),
  tls: section({
    enabled: Type.Boolean({ default: true }),
    cert: text('../certs/server.crt'),
    key: text('../certs/server.key'),
    minVersion: Type.Enum(['TLSv1.2', 'TLSv1.3'], { default: 'TLSv1.2' }),
    ciphers: text(DEFAULT_CIPHERS),
    clientCa: nullableString()
  }),
  trustProxies: list(Type.String({ minLength: 1 }), []),
  upstream: section({
    // no default here: the loader fills it only when `hosts` is absent (the two are exclusive)
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    hosts: Type.Optional(Type.Array(UpstreamHostSchema, { minItems: 1 })),
    connectTimeoutMs: int(1, 5000),
    headersTimeoutMs: int(1, 300000),
    idleTimeoutMs: int(1, 300000),
    discoveryIntervalSeconds: int(1, 15),
    health: section({ intervalSeconds: int(1, 10), failuresToEject: int(1, 3), cooldownSeconds: int(1, 30) }),
    queueTimeoutMs: int(0, 30000)
  }),
  limits: section({
    bodyBytes: int(1, 20971520),
    headerBytes: int(1024, 16384),
    controlBodyBytes: int(1, 16384),
    sourceBodyBytes: int(1, 67108864),
    bodyTimeoutMs: int(1, 30000),
    bodyMinBytesPerSecond: int(0, 1024),
    maxConnections: int(1, 10000),
    connectionsPerSource: int(1, 256),
    /** a new proxied request is refused with 503 while the event loop is behind by more than this (0: off) */
    maxEventLoopDelayMs: int(0, 0, 10000)
  }),
  dataDir: text('../data'),
  store: section({
    url: Type.String({ pattern: '^(sqlite:|postgres://|postgresql://)', default: 'sqlite:../data/gatehouse.db' }),
    /** ended sessions and revoked or expired API keys are deleted this many days after they ended */
    purgeAfterDays: int(1, 30)
  }),
  redis: section({
    url: Type.Unsafe<string | null>({ type: ['string', 'null'], pattern: '^rediss?://', default: null }),
    keyPrefix: Type.String({ pattern: '^[A-Za-z0-9:_.-]{1,64}$', default: 'gatehouse:' })
  }),
  auth: section({
    sessionTtlSeconds: int(60, 3600),
    idleTimeoutSeconds: int(60, 900),
    mfa: section({ requiredForRoles: list(Type.String({ minLength: 1 }), ['*']) }),
    lockout: section({
      maxFailedAttempts: int(1, 3),
      lockoutSeconds: int(1, 900),
      perIpMaxFailures: int(1, 20),
      perIpWindowSeconds: int(1, 900)
    }),
    /** requests without valid credentials: per-source throttle, and the window their refusals are counted in */
    unauthenticated: section({ perIpMaxPerMinute: int(1, 60), auditWindowSeconds: int(1, 60, 3600) }),
    password: section({ minLength: int(8, 12), maxLength: int(8, 128, 1024) }),
    jwt: section({
      issuer: text('gatehouse'),
      audience: text('gatehouse'),
      signingKeyFile: nullableString()
    }),
    /** single sign-on with an OpenID Provider; the client secret comes from the environment or clientSecretFile */
    oidc: section({
      enabled: Type.Boolean({ default: false }),
      issuer: nullableString({ pattern: '^https?://' }),
      clientId: nullableString(),
      redirectUri: nullableString({ pattern: '^https?://' }),
      scopes: list(Type.String({ pattern: '^[!#-\\[\\]-~]+$' }), ['openid', 'profile', 'email'], { uniqueItems: true, minItems: 1 }),
      usernameClaim: text('preferred_username'),
      groupsClaim: text('groups'),
      /** IdP group → Gatehouse role */
      roleMapping: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: ROLE_NAME }), { default: {} }),
      /** `amr` values of the ID token that count as MFA; without one, the local TOTP step follows */
      mfaFromIdp: list(Type.String({ minLength: 1 }), ['mfa', 'otp', 'hwk'], { uniqueItems: true }),
      acceptAccessTokens: section({ enabled: Type.Boolean({ default: false }), audience: text('gatehouse') }),
      clientSecretFile: nullableString()
    }),
    /** origins besides the gateway's own whose cookie-authenticated state-changing requests are accepted */
    allowedOrigins: list(Type.String({ pattern: '^https?://[^/\\s]+$' }), [], { uniqueItems: true })
  }),
  rbac: section({
    roles: Type.Record(Type.String(), RoleSchema, { default: DEFAULT_ROLES, minProperties: 1, propertyNames: { pattern: ROLE_NAME } })
  }),
  masking: section({
    enabled: Type.Boolean({ default: true }),
    direction: Type.Enum(['response', 'both'], { default: 'response' }),
    entities: list(Type.String({ minLength: 1 }), ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret'], { uniqueItems: true }),
    custom: list(Type.Object({
      name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }),
      pattern: Type.String({ minLength: 1 }),
      flags: Type.String({ pattern: '^[imsu]*$', default: '' }),
      maxLength: int(1, 256, 4096)
    }, { additionalProperties: false }), []),
    exemptRoles: list(Type.String({ minLength: 1 }), [])
  }),
  audit: section({
    failClosed: Type.Boolean({ default: true }),
    sinks: list(SinkSchema, [{ type: 'file', path: '../logs/audit.log' }]),
    checkpoint: section({ everyEvents: int(1, 1000), everySeconds: int(1, 60) }),
    replicaId: nullableString(),
    /** rotated audit files older than this many days are deleted (once the rest verifies without them); null keeps them all */
    retentionDays: Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, default: null })
  }),
  /** intrusion detection over the audit events: each rule counts in its window and raises one alert per subject and window */
  detection: section({
    enabled: Type.Boolean({ default: true }),
    /** distinct user names failing to log in from one source */
    passwordSpraying: section({ distinctUsers: int(2, 10), windowSeconds: int(1, 600) }),
    /** distinct sources failing to log in to one account */
    credentialStuffing: section({ distinctSources: int(2, 10), windowSeconds: int(1, 600) }),
    /** wrong TOTP codes for one account */
    totpGuessing: section({ failures: int(2, 5), windowSeconds: int(1, 600) }),
    /** 403/404 answers to one identity (probing routes or models) */
    refusalBurst: section({ refusals: int(2, 30), windowSeconds: int(1, 60) }),
    /** a revoked or expired API key presented; windowSeconds: one alert per source in it */
    revokedKey: section({ enabled: Type.Boolean({ default: true }), windowSeconds: int(1, 3600) }),
    /** a login from a source not seen for that user within rememberDays */
    newSource: section({ enabled: Type.Boolean({ default: false }), rememberDays: int(1, 90, 3650) })
  }),
  rateLimit: section({ requestsPerMinute: int(1, 600), concurrentStreams: int(1, 8) }),
  /** token quotas: every rule that matches an identity applies (load.ts checks one of role/user/key and a limit) */
  quotas: section({ rules: list(QuotaRuleSchema, []) }),
  /** per-request usage records older than retentionDays are deleted by a daily sweep */
  usage: section({ retentionDays: int(1, 400, 36500) }),
  /** scanDir: recorded dependency and image scans; alertRulesFile: the deployed alert rules (for evidence);
   * notifyUrlEnv: the variable holding the compliance webhook URL */
  compliance: section({
    scanDir: text('../data/scans'),
    alertRulesFile: text('../deploy/monitoring/alerts.yaml'),
    notifyUrlEnv: Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,127}$', default: 'GATEHOUSE_COMPLIANCE_WEBHOOK' })
  }),
  log: section({ level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }) })
})

/** The host named by `upstream.url` alone. */
export const DEFAULT_UPSTREAM_NAME = 'default'
export const DEFAULT_UPSTREAM_URL = 'http://127.0.0.1:11434'

export interface UpstreamConfig extends Omit<Static<typeof ConfigSchema>['upstream'], 'url' | 'hosts'> {
  /** the one host of `upstream.url`; null when the file lists `hosts` */
  url: string | null
  /** always filled after loading: `url` alone becomes one host named `default` */
  hosts: UpstreamHostConfig[]
}

export type GatehouseConfig = Omit<Static<typeof ConfigSchema>, 'upstream'> & {
  upstream: UpstreamConfig
  /** absolute path of the file this came from, or null for defaults only (set by the loader, not a key) */
  configFile: string | null
}
