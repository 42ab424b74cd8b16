// Roles → permissions and model globs, compiled once at start (config.rbac.roles). Role names and
// permissions are checked by the config schema; the model globs, whose syntax is rbac's, here.
// Deny by default: an unknown role grants nothing, an empty `models` list allows no model.
import { ConfigError } from '../errors.js'
import type { Permission, RoleConfig } from '../config/schema.js'
import type { ConfigCheck } from '../config/load.js'
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

/** The model globs of every role that are not globs, each prefixed with its key path (for loadConfig). */
export const roleModelProblems: ConfigCheck = (config) => compileRoles(config.rbac.roles).problems

/** Compiles the roles; throws ConfigError (GH_ERR_CONFIG_INVALID) listing every bad model glob at once. */
export function createPolicy (roles: Record<string, RoleConfig>): Policy {
  const { compiled, problems } = compileRoles(roles)
  if (problems.length > 0) throw new ConfigError(problems)

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
  for (const [name, role] of Object.entries(roles)) {
    const globs: ModelGlob[] = []
    role.models.forEach((m, i) => {
      const glob = compileModelGlob(m)
      if (typeof glob === 'string') problems.push(`rbac.roles.${name}.models.${i}: ${glob}`)
      else globs.push(glob)
    })
    compiled.set(name, Object.freeze({ permissions: new Set(role.permissions), globs: Object.freeze(globs) }))
  }
  return { compiled, problems }
}
