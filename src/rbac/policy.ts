// Roles → permissions and model globs, validated and compiled once at start (config.rbac.roles).
// Deny by default: an unknown role grants nothing, an empty `models` list allows no model.
import { errors } from '../errors.js'
import { PERMISSIONS, type Permission, type RoleConfig } from '../config/schema.js'
import { compileModelGlob, type ModelGlob } from './model-glob.js'
import { parseModelName } from '../ollama/model-name.js'

export interface Policy {
  /** the configured role names */
  roles (): string[]
  /** true when one of `roles` grants `permission` (`*` grants all but `pii:unmasked`, which must be named) */
  permits (roles: readonly string[], permission: Permission): boolean
  /** true when one of `roles` lists a glob matching `model` (a canonical name; others are canonicalized or refused) */
  modelAllowed (roles: readonly string[], model: string): boolean
  /** true when ONE of `roles` both grants `permission` and allows every model in `models` */
  allows (roles: readonly string[], permission: Permission, models: readonly string[]): boolean
}

interface CompiledRole { permissions: ReadonlySet<Permission>, globs: readonly ModelGlob[] }

/** Every problem with a roles config, each prefixed with its key path; empty when it is fine. */
export function validateRoles (roles: Record<string, RoleConfig>): string[] {
  return compileRoles(roles).problems
}

/** Validates and compiles the roles; throws GH_ERR_CONFIG_INVALID listing every problem at once. */
export function createPolicy (roles: Record<string, RoleConfig>): Policy {
  const { compiled, problems } = compileRoles(roles)
  if (problems.length > 0) throw new errors.CONFIG_INVALID(problems.join('\n'))

  const known = (names: readonly string[]): CompiledRole[] =>
    names.flatMap((n) => { const r = compiled.get(n); return r === undefined ? [] : [r] })
  const grants = (role: CompiledRole, permission: Permission): boolean =>
    role.permissions.has(permission) || (permission !== 'pii:unmasked' && role.permissions.has('*'))
  /** `canonical` must already be canonical: callers canonicalize once, not once per role */
  const matches = (role: CompiledRole, canonical: string): boolean => role.globs.some((g) => g.test(canonical))
  /** every name canonicalized, or null when one is not a name Gatehouse accepts */
  const canonicalAll = (models: readonly string[]): string[] | null => {
    const out: string[] = []
    for (const m of models) {
      const c = parseModelName(m)
      if (c === null) return null
      out.push(c)
    }
    return out
  }

  const policy: Policy = {
    roles: () => [...compiled.keys()],
    permits: (names, permission) => known(names).some((r) => grants(r, permission)),
    modelAllowed: (names, model) => {
      const canonical = parseModelName(model)
      return canonical !== null && known(names).some((r) => matches(r, canonical))
    },
    allows: (names, permission, models) => {
      const canonical = canonicalAll(models)
      return canonical !== null && known(names).some((r) => grants(r, permission) && canonical.every((m) => matches(r, m)))
    }
  }
  return Object.freeze(policy)
}

function compileRoles (roles: Record<string, RoleConfig>): { compiled: Map<string, CompiledRole>, problems: string[] } {
  const compiled = new Map<string, CompiledRole>()
  const problems: string[] = []
  const entries = roles !== null && typeof roles === 'object' ? Object.entries(roles) : []
  if (entries.length === 0) problems.push('rbac.roles: must define at least one role')
  for (const [name, role] of entries) {
    const at = `rbac.roles.${name}`
    if (!/^[a-z][a-z0-9_-]{0,63}$/.test(name)) problems.push(`${at}: role names are lower case letters, digits, "_" and "-"`)
    const permissions = Array.isArray(role?.permissions) ? role.permissions : []
    if (!Array.isArray(role?.permissions)) problems.push(`${at}.permissions: must be a list`)
    permissions.forEach((p, i) => {
      if (!(PERMISSIONS as readonly string[]).includes(p)) {
        problems.push(`${at}.permissions.${i}: unknown permission "${String(p)}" (known: ${PERMISSIONS.join(', ')})`)
      }
    })
    const globs: ModelGlob[] = []
    const models: unknown[] = role?.models === undefined ? [] : Array.isArray(role.models) ? role.models : []
    if (role?.models !== undefined && !Array.isArray(role.models)) problems.push(`${at}.models: must be a list`)
    models.forEach((m, i) => {
      const glob = typeof m === 'string' ? compileModelGlob(m) : 'must be a string'
      if (typeof glob === 'string') problems.push(`${at}.models.${i}: ${glob}`)
      else globs.push(glob)
    })
    compiled.set(name, Object.freeze({ permissions: new Set(permissions), globs: Object.freeze(globs) }))
  }
  return { compiled, problems }
}
