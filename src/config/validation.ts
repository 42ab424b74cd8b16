// JSON Schema validation with one wording for every problem, "<key path>: <problem>", for a bad
// config key and a bad request field alike. The config loader and the JSON routes both use it.
import { Ajv, type ErrorObject, type Options } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { errors } from '../errors.js'
import { closest } from './did-you-mean.js'

/** What an unknown member is called where the document comes from ("key" in config, "field" in a body). */
export type MemberWord = 'key' | 'field'

/** An ajv JSON pointer as a dotted key path (`/auth/mfa/0` → `auth.mfa.0`). */
function keyPath (instancePath: string): string {
  if (instancePath === '') return ''
  return instancePath.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`)

/** One problem, or null for an error that only says a sub-schema failed (reported on its own). */
function schemaProblem (e: ErrorObject, member: MemberWord, root: string): string | null {
  const path = keyPath(e.instancePath)
  // inside `propertyNames` ajv names the offending key beside the error, and wraps it in one more
  if (e.propertyName !== undefined) return `${join(path, e.propertyName)}: name ${e.message ?? 'is invalid'}`
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty)
      // parentSchema is there when the ajv instance is verbose (the config's): then a typo gets a guess
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      const guess = closest(key, known)
      return `${join(path, key)}: unknown ${member}${guess === null ? '' : ` (did you mean ${guess}?)`}`
    }
    case 'required':
      return `${join(path, String((e.params as { missingProperty: string }).missingProperty))}: is required`
    case 'if':
    case 'propertyNames':
      return null
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
      const guess = e.parentSchema !== undefined && typeof e.data === 'string'
        ? closest(e.data, allowed.filter((v): v is string => typeof v === 'string'))
        : null
      return `${path || root}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` +
        (guess === null ? '' : ` (did you mean ${JSON.stringify(guess)}?)`)
    }
    default:
      return `${path || root}: ${e.message ?? 'is invalid'}`
  }
}

/** Every distinct problem of a failed validation, in the order ajv found them. */
export function schemaProblems (errs: readonly ErrorObject[] | null | undefined, member: MemberWord, root: string): string[] {
  return [...new Set((errs ?? []).map((e) => schemaProblem(e, member, root)).filter((x): x is string => x !== null))]
}

/**
 * An ajv instance that never changes what it checks: no type coercion, no silently dropped unknown
 * members (Fastify's default removes them), defaults filled in. The schemas it compiles are the
 * project's own constants, checked against the JSON Schema meta-schema by the test suite
 * (test/unit/config/validation.test.ts), not at every start: compiling the meta-schema was about
 * 150 ms of each instance's first compile.
 */
export function strictAjv (extra: Options = {}): Ajv {
  return new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, validateSchema: false, ...extra })
}

// one instance for the route schemas of every app: ajv keeps what it compiled by schema object, and
// the schemas are module constants, so each (and ajv's meta-schema) is compiled once per process,
// not again for every app built; a compiled validator is stateless apart from `errors`, which
// Fastify reads right after each synchronous call
const routeAjv = strictAjv()

/**
 * Route schemas in `app` (an encapsulated plugin) are checked strictly: an unknown or mistyped field
 * is a 400 GH_ERR_BAD_REQUEST naming it, `{"error":"<field>: <problem>"}`. The first problem only,
 * so a huge body cannot make the check expensive.
 */
export function strictRouteSchemas (app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema }) => routeAjv.compile(schema))
  app.setSchemaErrorFormatter((errs, dataVar) =>
    new errors.BAD_REQUEST(schemaProblems(errs as ErrorObject[], 'field', dataVar)[0] ?? `invalid ${dataVar}`))
}
