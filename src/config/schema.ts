// The configuration contract (SPEC §2) as a JSON Schema: every key has a default and unknown keys
// are errors. Ajv fills the defaults and reports every problem with its key path at once.
export const PERMISSIONS = [
  'inference', 'models:read', 'models:manage', 'status:read', 'metrics:read', 'admin', 'pii:unmasked', '*'
] as const
export type Permission = (typeof PERMISSIONS)[number]

export const BUILTIN_ENTITIES = ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret', 'ipv4'] as const

export const DEFAULT_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'
].join(':')

export const DEFAULT_ROLES = {
  admin: { permissions: ['*'], models: ['*'] },
  'model-loader': { permissions: ['models:read', 'models:manage'], models: ['*'] },
  user: { permissions: ['inference', 'models:read'], models: ['*'] },
  monitor: { permissions: ['status:read', 'metrics:read'], models: [] }
}

const int = (minimum: number, dflt: number, maximum?: number) =>
  ({ type: 'integer', minimum, default: dflt, ...(maximum === undefined ? {} : { maximum }) })
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ type: 'object', additionalProperties: false, default: {}, properties, ...extra })
const nullableString = { type: ['string', 'null'], minLength: 1, default: null }

const sink = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['file', 'stdout', 'syslog'] } },
  allOf: [
    {
      if: { properties: { type: { const: 'file' } } },
      then: {
        required: ['path'],
        additionalProperties: false,
        properties: {
          type: {}, path: { type: 'string', minLength: 1 },
          maxBytes: int(1024, 104857600), flushIntervalMs: int(1, 100, 100)
        }
      }
    },
    {
      if: { properties: { type: { const: 'stdout' } } },
      then: { additionalProperties: false, properties: { type: {} } }
    },
    {
      if: { properties: { type: { const: 'syslog' } } },
      then: {
        required: ['url'],
        additionalProperties: false,
        properties: {
          type: {},
          url: { type: 'string', pattern: '^(tcp|tls)://[^/:]+:[0-9]+$' },
          ca: nullableString,
          queueSize: int(1, 10000),
          appName: { type: 'string', pattern: '^[!-~]{1,48}$', default: 'gatehouse' }
        }
      }
    }
  ]
}

export const configSchema = obj({
  listen: obj({ host: { type: 'string', minLength: 1, default: '127.0.0.1' }, port: int(0, 8443, 65535) }),
  tls: obj({
    enabled: { type: 'boolean', default: true },
    cert: { type: 'string', minLength: 1, default: '../certs/server.crt' },
    key: { type: 'string', minLength: 1, default: '../certs/server.key' },
    minVersion: { enum: ['TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2' },
    ciphers: { type: 'string', minLength: 1, default: DEFAULT_CIPHERS },
    clientCa: nullableString
  }),
  trustProxies: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  upstream: obj({
    url: { type: 'string', pattern: '^https?://', default: 'http://127.0.0.1:11434' },
    connectTimeoutMs: int(1, 5000),
    headersTimeoutMs: int(1, 300000),
    idleTimeoutMs: int(1, 300000)
  }),
  limits: obj({ bodyBytes: int(1, 20971520), headerBytes: int(1024, 16384) }),
  dataDir: { type: 'string', minLength: 1, default: '../data' },
  store: obj({ url: { type: 'string', pattern: '^(sqlite:|postgres://|postgresql://)', default: 'sqlite:../data/gatehouse.db' } }),
  redis: obj({
    url: { type: ['string', 'null'], pattern: '^rediss?://', default: null },
    keyPrefix: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,64}$', default: 'gatehouse:' }
  }),
  auth: obj({
    sessionTtlSeconds: int(60, 3600),
    idleTimeoutSeconds: int(60, 900),
    mfa: obj({ requiredForRoles: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['*'] } }),
    lockout: obj({
      maxFailedAttempts: int(1, 3),
      lockoutSeconds: int(1, 900),
      perIpMaxFailures: int(1, 20),
      perIpWindowSeconds: int(1, 900)
    }),
    password: obj({ minLength: int(8, 12), maxLength: int(8, 128, 1024) }),
    jwt: obj({
      issuer: { type: 'string', minLength: 1, default: 'gatehouse' },
      audience: { type: 'string', minLength: 1, default: 'gatehouse' },
      signingKeyFile: nullableString
    })
  }),
  rbac: obj({
    roles: {
      type: 'object',
      default: DEFAULT_ROLES,
      minProperties: 1,
      propertyNames: { pattern: '^[a-z][a-z0-9_-]{0,63}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['permissions'],
        properties: {
          permissions: { type: 'array', items: { enum: [...PERMISSIONS] }, uniqueItems: true },
          models: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] }
        }
      }
    }
  }),
  masking: obj({
    enabled: { type: 'boolean', default: true },
    direction: { enum: ['response', 'both'], default: 'response' },
    entities: {
      type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 },
      default: ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret']
    },
    custom: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'pattern'],
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' },
          pattern: { type: 'string', minLength: 1 },
          flags: { type: 'string', pattern: '^[imsu]*$', default: '' },
          maxLength: int(1, 256, 4096)
        }
      }
    },
    exemptRoles: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] }
  }),
  audit: obj({
    failClosed: { type: 'boolean', default: true },
    sinks: { type: 'array', items: sink, default: [{ type: 'file', path: '../logs/audit.log' }] },
    checkpoint: obj({ everyEvents: int(1, 1000), everySeconds: int(1, 60) }),
    replicaId: nullableString
  }),
  rateLimit: obj({ requestsPerMinute: int(1, 600), concurrentStreams: int(1, 8) }),
  compliance: obj({
    scanDir: { type: 'string', minLength: 1, default: '../data/scans' },
    alertRulesFile: { type: 'string', minLength: 1, default: '../deploy/monitoring/alerts.yaml' },
    notifyUrlEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]{0,127}$', default: 'GATEHOUSE_COMPLIANCE_WEBHOOK' }
  }),
  log: obj({ level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' } })
})

export interface RoleConfig { permissions: Permission[], models: string[] }
export type SinkConfig =
  | { type: 'file', path: string, maxBytes: number, flushIntervalMs: number }
  | { type: 'stdout' }
  | { type: 'syslog', url: string, ca: string | null, queueSize: number, appName: string }

export interface GatehouseConfig {
  /** absolute path of the file this came from, or null for defaults only */
  configFile: string | null
  listen: { host: string, port: number }
  tls: { enabled: boolean, cert: string, key: string, minVersion: 'TLSv1.2' | 'TLSv1.3', ciphers: string, clientCa: string | null }
  trustProxies: string[]
  upstream: { url: string, connectTimeoutMs: number, headersTimeoutMs: number, idleTimeoutMs: number }
  limits: { bodyBytes: number, headerBytes: number }
  dataDir: string
  store: { url: string }
  redis: { url: string | null, keyPrefix: string }
  auth: {
    sessionTtlSeconds: number
    idleTimeoutSeconds: number
    mfa: { requiredForRoles: string[] }
    lockout: { maxFailedAttempts: number, lockoutSeconds: number, perIpMaxFailures: number, perIpWindowSeconds: number }
    password: { minLength: number, maxLength: number }
    jwt: { issuer: string, audience: string, signingKeyFile: string | null }
  }
  rbac: { roles: Record<string, RoleConfig> }
  masking: {
    enabled: boolean
    direction: 'response' | 'both'
    entities: string[]
    custom: Array<{ name: string, pattern: string, flags: string, maxLength: number }>
    exemptRoles: string[]
  }
  audit: { failClosed: boolean, sinks: SinkConfig[], checkpoint: { everyEvents: number, everySeconds: number }, replicaId: string | null }
  rateLimit: { requestsPerMinute: number, concurrentStreams: number }
  /** scanDir: recorded dependency/image scans; alertRulesFile: the deployed alert rules (for evidence); notifyUrlEnv: the variable holding the compliance webhook URL */
  compliance: { scanDir: string, alertRulesFile: string, notifyUrlEnv: string }
  log: { level: string }
}
