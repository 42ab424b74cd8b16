// Load, validate and freeze the configuration. Every problem is collected and reported together,
// each prefixed with its key path, so an operator fixes a file in one pass.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, isAbsolute, resolve } from 'node:path'
import { isIP } from 'node:net'
import { Ajv, type ErrorObject } from 'ajv'
import { parseDocument } from 'yaml'
import { configSchema, BUILTIN_ENTITIES, type GatehouseConfig } from './schema.js'
import { parseCidr } from './cidr.js'
import { validateRoles } from '../rbac/policy.js'
import { customPatternError } from '../masking/detectors/custom.js'
import { canonicalJson } from '../canonical-json.js'
import { ConfigError } from '../errors.js'

export const DEFAULT_CONFIG_PATH = 'config/gatehouse.yaml'

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })
const validate = ajv.compile(configSchema)

function keyPath (instancePath: string): string {
  return instancePath.replace(/^\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')
}

function describe (e: ErrorObject): string | null {
  const path = keyPath(e.instancePath)
  if (e.keyword === 'additionalProperties') {
    const k = String((e.params as { additionalProperty: string }).additionalProperty)
    return `${path ? path + '.' : ''}${k}: unknown key`
  }
  if (e.keyword === 'if') return null // the failing `then` branch is reported on its own
  if (e.keyword === 'enum') {
    return `${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  }
  return `${path || '(root)'}: ${e.message ?? 'is invalid'}`
}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))

/** Checks that span several keys; run only once the shape is valid. */
function crossCheck (c: GatehouseConfig): string[] {
  const problems: string[] = []
  if (!c.tls.enabled && !isLoopback(c.listen.host)) {
    problems.push('tls.enabled: false is allowed only when listen.host is a loopback address')
  }
  problems.push(...validateRoles(c.rbac.roles))
  const roles = new Set(Object.keys(c.rbac.roles))
  c.auth.mfa.requiredForRoles.forEach((r, i) => {
    if (r !== '*' && !roles.has(r)) problems.push(`auth.mfa.requiredForRoles.${i}: unknown role "${r}"`)
  })
  c.masking.exemptRoles.forEach((r, i) => {
    if (!roles.has(r)) problems.push(`masking.exemptRoles.${i}: unknown role "${r}"`)
  })
  if (c.auth.password.maxLength < c.auth.password.minLength) {
    problems.push('auth.password.maxLength: must be >= auth.password.minLength')
  }
  const custom = new Set(c.masking.custom.map((x) => x.name))
  c.masking.entities.forEach((e, i) => {
    if (!(BUILTIN_ENTITIES as readonly string[]).includes(e) && !custom.has(e)) {
      problems.push(`masking.entities.${i}: unknown entity "${e}" (built in: ${BUILTIN_ENTITIES.join(', ')}, or a masking.custom name)`)
    }
  })
  c.masking.custom.forEach((x, i) => {
    if ((BUILTIN_ENTITIES as readonly string[]).includes(x.name)) problems.push(`masking.custom.${i}.name: "${x.name}" is a built-in entity`)
    const bad = customPatternError(x)
    if (bad !== null) problems.push(`masking.custom.${i}.pattern: ${bad}`)
  })
  c.trustProxies.forEach((p, i) => {
    if (parseCidr(p) === null) problems.push(`trustProxies.${i}: not an IP address or CIDR`)
  })
  // secrets never live in the YAML: a database or Redis password comes from the environment
  for (const [key, url, env] of [['store.url', c.store.url, 'PGPASSWORD (or ~/.pgpass)'], ['redis.url', c.redis.url, 'GATEHOUSE_REDIS_PASSWORD']] as const) {
    if (url === null || !/^(postgres|postgresql|redis|rediss):/.test(url)) continue
    try {
      if (new URL(url).password !== '') problems.push(`${key}: must not contain a password; set it in ${env}`)
    } catch { problems.push(`${key}: not a URL`) }
  }
  try {
    const u = new URL(c.upstream.url)
    if (u.pathname !== '/' || u.search || u.username) problems.push('upstream.url: must be scheme://host:port with no path, query or credentials')
  } catch { problems.push('upstream.url: not a URL') }
  return problems
}

function resolvePaths (c: GatehouseConfig, base: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p))
  c.tls.cert = abs(c.tls.cert)
  c.tls.key = abs(c.tls.key)
  if (c.tls.clientCa) c.tls.clientCa = abs(c.tls.clientCa)
  c.dataDir = abs(c.dataDir)
  c.compliance.scanDir = abs(c.compliance.scanDir)
  c.compliance.alertRulesFile = abs(c.compliance.alertRulesFile)
  if (c.auth.jwt.signingKeyFile) c.auth.jwt.signingKeyFile = abs(c.auth.jwt.signingKeyFile)
  if (c.store.url.startsWith('sqlite:')) {
    const p = c.store.url.slice('sqlite:'.length)
    c.store.url = p === ':memory:' ? c.store.url : 'sqlite:' + abs(p)
  }
  for (const s of c.audit.sinks) {
    if (s.type === 'file') s.path = abs(s.path)
    if (s.type === 'syslog' && s.ca) s.ca = abs(s.ca)
  }
}

function deepFreeze<T> (o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

/** Validates an already-parsed document. `base` is the folder relative paths start from. */
export function buildConfig (raw: unknown, base: string, configFile: string | null = null): GatehouseConfig {
  const doc = raw === null || raw === undefined ? {} : structuredClone(raw)
  if (!validate(doc)) {
    const problems = [...new Set((validate.errors ?? []).map(describe).filter((x): x is string => x !== null))]
    throw new ConfigError(problems)
  }
  const config = doc as unknown as GatehouseConfig
  const problems = crossCheck(config)
  if (problems.length > 0) throw new ConfigError(problems)
  resolvePaths(config, base)
  config.configFile = configFile
  return deepFreeze(config)
}

/** Which file to load: --config, else GATEHOUSE_CONFIG, else config/gatehouse.yaml. */
export function configPathFrom (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.GATEHOUSE_CONFIG ?? DEFAULT_CONFIG_PATH)
}

export function loadConfig (file: string): GatehouseConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`])
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `(yaml): ${e.message.split('\n')[0]}`))
  }
  return buildConfig(doc.toJS(), dirname(resolve(file)), resolve(file))
}

/** SHA-256 of the effective configuration (canonical JSON), for audit and evidence. */
export function configHash (config: GatehouseConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex')
}

/** The configuration with anything credential-like removed (store/redis passwords in URLs). */
export function redactedConfig (config: GatehouseConfig): GatehouseConfig {
  const c = structuredClone(config) as GatehouseConfig
  const scrub = (u: string | null) => {
    if (!u) return u
    try {
      const url = new URL(u)
      if (url.password) url.password = 'REDACTED'
      return url.toString()
    } catch { return u }
  }
  c.store.url = scrub(c.store.url) ?? c.store.url
  c.redis.url = scrub(c.redis.url)
  return c
}

