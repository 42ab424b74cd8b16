// Load, validate and freeze the configuration. Every problem is collected and reported together,
// each prefixed with its key path, so an operator fixes a file in one pass.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parseDocument, type YAMLError } from 'yaml'
import {
  ConfigSchema, BUILTIN_ENTITIES, DEFAULT_UPSTREAM_NAME, DEFAULT_UPSTREAM_URL, MIN_EVENT_LOOP_DELAY_MS, type GatehouseConfig
} from './schema.js'
import { isLoopbackHost, parseCidr } from './cidr.js'
import { schemaProblems, strictAjv } from './validation.js'
import { canonicalJson } from '../canonical-json.js'
import { ConfigError } from '../errors.js'
import { closest } from './did-you-mean.js'

const DEFAULT_CONFIG_PATH = 'config/gatehouse.yaml'

// compiled once: stateless apart from `errors`, which is read right after each synchronous call
// verbose: each error carries its schema and value, which the "did you mean" guesses read
const validate = strictAjv({ allErrors: true, strict: false, verbose: true }).compile(ConfigSchema)

/**
 * A check that needs knowledge living above config/ (model-glob syntax is rbac's): it returns
 * problems with their key paths, reported together with the loader's own.
 */
export type ConfigCheck = (config: GatehouseConfig) => string[]

/** Compiles a masking.custom pattern the way the detector will: null when usable, else the reason. */
function customPatternProblem (pattern: string, flags: string): string | null {
  try {
    return new RegExp(pattern, flags.replace(/[gy]/g, '') + 'y').test('') ? 'pattern matches the empty string' : null
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Checks that span several keys. They also run when the shape is invalid, each step on its own: a
 * step that trips over a section of the wrong type is skipped (that section has its schema problem).
 */
function crossCheck (c: GatehouseConfig, checks: readonly ConfigCheck[]): string[] {
  const problems: string[] = []
  const step = (f: () => void): void => {
    const before = problems.length
    try { f() } catch { problems.length = before }
  }
  step(() => {
    if (!c.tls.enabled && !isLoopbackHost(c.listen.host)) {
      problems.push('tls.enabled: false is allowed only when listen.host is a loopback address')
    }
  })
  const roles = new Set(Object.keys(c.rbac?.roles ?? {}))
  step(() => c.auth.mfa.requiredForRoles.forEach((r, i) => {
    if (r !== '*' && !roles.has(r)) problems.push(`auth.mfa.requiredForRoles.${i}: unknown role "${r}"`)
  }))
  step(() => c.masking.exemptRoles.forEach((r, i) => {
    if (!roles.has(r)) problems.push(`masking.exemptRoles.${i}: unknown role "${r}"`)
  }))
  step(() => {
    if (c.auth.password.maxLength < c.auth.password.minLength) {
      problems.push('auth.password.maxLength: must be >= auth.password.minLength')
    }
  })
  step(() => {
    // below two heartbeats the guard would shed on timer jitter and the shortest garbage collections
    const shedMs = c.limits.maxEventLoopDelayMs
    if (shedMs !== 0 && shedMs < MIN_EVENT_LOOP_DELAY_MS) {
      problems.push(`limits.maxEventLoopDelayMs: must be 0 (off) or at least ${MIN_EVENT_LOOP_DELAY_MS}`)
    }
  })
  step(() => {
    const custom = new Set(c.masking.custom.map((x) => x.name))
    c.masking.entities.forEach((e, i) => {
      if (!(BUILTIN_ENTITIES as readonly string[]).includes(e) && !custom.has(e)) {
        const guess = closest(e, [...BUILTIN_ENTITIES, ...custom])
        problems.push(`masking.entities.${i}: unknown entity "${e}"${guess === null ? '' : ` (did you mean ${guess}?)`} ` +
          `(built in: ${BUILTIN_ENTITIES.join(', ')}, or a masking.custom name)`)
      }
    })
  })
  step(() => c.masking.custom.forEach((x, i) => {
    if ((BUILTIN_ENTITIES as readonly string[]).includes(x.name)) {
      problems.push(`masking.custom.${i}.name: "${x.name}" is a built-in entity`)
    }
    const bad = customPatternProblem(x.pattern, x.flags)
    if (bad !== null) problems.push(`masking.custom.${i}.pattern: ${bad}`)
  }))
  step(() => c.trustProxies.forEach((p, i) => {
    if (parseCidr(p) === null) problems.push(`trustProxies.${i}: not an IP address or CIDR`)
  }))
  // secrets never live in the YAML: a database or Redis password comes from the environment
  step(() => {
    for (const [key, url, env] of [
      ['store.url', c.store.url, 'PGPASSWORD (or ~/.pgpass)'],
      ['redis.url', c.redis.url, 'GATEHOUSE_REDIS_PASSWORD']
    ] as const) {
      if (typeof url !== 'string' || !/^(postgres|postgresql|redis|rediss):/.test(url)) continue
      try {
        if (new URL(url).password !== '') problems.push(`${key}: must not contain a password; set it in ${env}`)
      } catch { problems.push(`${key}: not a URL`) }
    }
  })
  const origin = (key: string, url: string) => {
    try {
      const u = new URL(url)
      if (u.pathname !== '/' || u.search || u.username) {
        problems.push(`${key}: must be scheme://host:port with no path, query or credentials`)
      }
    } catch { problems.push(`${key}: not a URL`) }
  }
  step(() => {
    if (c.upstream.url !== null) origin('upstream.url', c.upstream.url)
    const names = new Set<string>()
    c.upstream.hosts.forEach((h, i) => {
      if (c.upstream.url === null) origin(`upstream.hosts.${i}.url`, h.url)
      if (names.has(h.name)) problems.push(`upstream.hosts.${i}.name: "${h.name}" is used twice`)
      names.add(h.name)
    })
  })
  step(() => problems.push(...oidcProblems(c, roles)))
  step(() => c.quotas.rules.forEach((r, i) => {
    const subjects = (['role', 'user', 'key'] as const).filter((k) => r[k] !== undefined)
    if (subjects.length !== 1) problems.push(`quotas.rules.${i}: must have exactly one of role, user, key`)
    if (r.tokensPerDay === undefined && r.tokensPerMonth === undefined) {
      problems.push(`quotas.rules.${i}: must have tokensPerDay or tokensPerMonth`)
    }
    if (r.role !== undefined && !roles.has(r.role)) problems.push(`quotas.rules.${i}.role: unknown role "${r.role}"`)
  }))
  for (const check of checks) step(() => problems.push(...check(c)))
  return problems
}

/** The IdP is reached over https (http only on loopback, for tests and local IdPs). */
function secureUrl (url: string): boolean {
  const u = new URL(url)
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, '')))
}

function oidcProblems (c: GatehouseConfig, roles: ReadonlySet<string>): string[] {
  const o = c.auth.oidc
  const problems: string[] = []
  Object.entries(o.roleMapping).forEach(([group, role]) => {
    if (!roles.has(role)) problems.push(`auth.oidc.roleMapping.${group}: unknown role "${role}"`)
  })
  if (!o.enabled) {
    if (o.acceptAccessTokens.enabled) {
      problems.push('auth.oidc.acceptAccessTokens.enabled: needs auth.oidc.enabled (the IdP is not configured)')
    }
    return problems
  }
  if (o.issuer === null) problems.push('auth.oidc.issuer: required when auth.oidc.enabled is true')
  // Gatehouse's own session tokens are told apart from the IdP's by their issuer
  if (o.issuer !== null && o.issuer === c.auth.jwt.issuer) problems.push('auth.oidc.issuer: must differ from auth.jwt.issuer')

  if (o.clientId === null) problems.push('auth.oidc.clientId: required when auth.oidc.enabled is true')
  if (o.redirectUri === null) problems.push('auth.oidc.redirectUri: required when auth.oidc.enabled is true')
  if (Object.keys(o.roleMapping).length === 0) problems.push('auth.oidc.roleMapping: maps no group to a role, so nobody could sign in')
  if (!o.scopes.includes('openid')) problems.push('auth.oidc.scopes: must include openid')
  try {
    if (o.issuer !== null) {
      const u = new URL(o.issuer)
      if (!secureUrl(o.issuer)) problems.push('auth.oidc.issuer: must be https (http only on a loopback address)')
      if (u.search || u.hash || u.username) problems.push('auth.oidc.issuer: must have no query, fragment or credentials')
    }
  } catch { problems.push('auth.oidc.issuer: not a URL') }
  try {
    if (o.redirectUri !== null) {
      const u = new URL(o.redirectUri)
      if (!secureUrl(o.redirectUri)) problems.push('auth.oidc.redirectUri: must be https (http only on a loopback address)')
      if (u.pathname !== '/auth/oidc/callback' || u.search || u.hash || u.username) {
        problems.push('auth.oidc.redirectUri: must be the gateway\'s own origin followed by /auth/oidc/callback, nothing else')
      }
    }
  } catch { problems.push('auth.oidc.redirectUri: not a URL') }
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
  if (c.auth.oidc.clientSecretFile) c.auth.oidc.clientSecretFile = abs(c.auth.oidc.clientSecretFile)
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
export function buildConfig (
  raw: unknown, base: string, configFile: string | null = null, checks: readonly ConfigCheck[] = []
): GatehouseConfig {
  const doc = raw === null || raw === undefined ? {} : structuredClone(raw)
  const givenUpstream = (doc as { upstream?: unknown }).upstream
  const both = typeof givenUpstream === 'object' && givenUpstream !== null && 'url' in givenUpstream && 'hosts' in givenUpstream
    ? ['upstream.hosts: cannot be set together with upstream.url; list every host under upstream.hosts']
    : []
  const shape = validate(doc) ? [] : schemaProblems(validate.errors, 'key', '(root)')
  const config = doc as unknown as GatehouseConfig
  const given = (typeof config.upstream === 'object' && config.upstream !== null ? config.upstream : null) as
    Partial<GatehouseConfig['upstream']> | null
  // `url` alone is one host named `default`; `hosts` leaves url null
  if (given !== null && both.length === 0) {
    if (given.hosts === undefined) {
      config.upstream.url = given.url ?? DEFAULT_UPSTREAM_URL
      config.upstream.hosts = [{ name: DEFAULT_UPSTREAM_NAME, url: config.upstream.url, maxConcurrent: null }]
    } else {
      config.upstream.url = null
    }
  }
  // shape and cross-key problems in one report, so a file is fixed in one pass
  const problems = [...both, ...shape, ...(both.length === 0 ? crossCheck(config, checks) : [])]
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])
  resolvePaths(config, base)
  config.configFile = configFile
  return deepFreeze(config)
}

/** Which file to load: --config, else GATEHOUSE_CONFIG, else config/gatehouse.yaml. */
export function configPathFrom (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.GATEHOUSE_CONFIG ?? DEFAULT_CONFIG_PATH)
}

/** A YAML syntax error: its line and column, then the line itself with a caret under the column. */
function yamlProblem (e: YAMLError, text: string): string {
  const message = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML'
  const pos = e.linePos?.[0]
  if (pos === undefined) return `(yaml) ${message}`
  const line = text.split(/\r?\n/)[pos.line - 1]
  const head = `(yaml) line ${pos.line}, column ${pos.col}: ${message}`
  if (line === undefined || line.trim() === '') return head
  const gutter = `    ${pos.line} | `
  return `${head}\n${gutter}${line}\n${' '.repeat(gutter.length - 2)}| ${' '.repeat(Math.max(0, pos.col - 1))}^`
}

export function loadConfig (file: string, checks: readonly ConfigCheck[] = []): GatehouseConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`])
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => yamlProblem(e, text)))
  return buildConfig(doc.toJS(), dirname(resolve(file)), resolve(file), checks)
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

