// The authorization decision for one proxied request: permission, then the models it names, read
// the way Ollama will read them, then the body to forward, rebuilt from the values that were checked.
// Pure: no I/O, no clock. `reason` is a short machine token for the audit, never body content.
import { errors } from '../errors.js'
import type { ProxiedRoute } from '../ollama/routes.js'
import type { Policy } from './policy.js'
import { goKeyMatches, looksLikeKey, decodeString, scanBody, type JsonKind, type JsonMember } from '../ollama/go-json.js'
import { parseModelName } from '../ollama/model-name.js'
import { ADDED_STREAM_OPTIONS, clientIncludesUsage, isStreamOptions } from '../ollama/stream-usage.js'

export type AuthzDenyCode =
  | 'GH_ERR_FORBIDDEN' | 'GH_ERR_MODEL_FORBIDDEN'
  | 'GH_ERR_INVALID_JSON' | 'GH_ERR_BODY_NOT_OBJECT' | 'GH_ERR_INVALID_MODEL' | 'GH_ERR_BAD_REQUEST'

export type AuthzResult =
  | {
    ok: true
    /**
     * The body to send upstream: for JSON routes rebuilt from what was checked (never the raw one),
     * for 'binary' routes the raw body as received, null for routes that send none.
     */
    forwardBody: Buffer | null
    /** canonical names of the models the request uses, in route-field order */
    models: string[]
    /**
     * The kind of the body's top-level `stream` member as Ollama reads it (the last key Go matches
     * to `stream`; the forwarded body carries only that one); null when absent or not a JSON route.
     */
    stream: JsonKind | null
    /** the forwarded body asks Ollama for a usage chunk the client did not ask for (remove it from the reply) */
    usageAdded: boolean
  }
  | Deny

export interface Deny {
  ok: false
  status: 400 | 403
  code: AuthzDenyCode
  /** a short machine token for the audit: never body content (the models are in `models`) */
  reason: string
  message: string
  /** canonical names the decision was taken on, the refused one first; empty when none was read */
  models: string[]
}

/**
 * Top-level fields Gatehouse refuses per route: older Ollama versions read a model from them
 * (`modelfile: "FROM secret"`, a Modelfile at a server `path`), current ones ignore them.
 */
const REFUSED_FIELDS: Record<string, readonly string[]> = {
  'POST /api/create': ['modelfile', 'path']
}

/**
 * Top-level fields that build a model from uploaded blobs: when present (and not null) the request
 * also needs `models:upload` for its models, as the blob routes do.
 */
const UPLOAD_FIELDS: Record<string, readonly string[]> = {
  'POST /api/create': ['files', 'adapters']
}

const STREAM = 'stream'
const OPEN = Buffer.from('{')
const CLOSE = Buffer.from('}')
const COLON = Buffer.from(':')
const COMMA = Buffer.from(',')
const EMPTY = Buffer.alloc(0)

const deny = (status: 400 | 403, code: AuthzDenyCode, reason: string, message: string, models: string[] = []): Deny =>
  ({ ok: false, status, code, reason, message, models })

export function authorize (
  policy: Policy, route: ProxiedRoute, roles: readonly string[], rawBody: Buffer | null, params: Record<string, string>
): AuthzResult {
  if (!policy.permits(roles, route.permission)) {
    return deny(403, 'GH_ERR_FORBIDDEN', `permission:${route.permission}`, 'forbidden')
  }

  const models: string[] = []
  if (route.modelParam !== undefined) {
    const value = params[route.modelParam] ?? ''
    if (value === '') return deny(400, 'GH_ERR_INVALID_MODEL', `invalid-model:missing:${route.modelParam}`, 'a model is required')
    const canonical = parseModelName(value)
    if (canonical === null) return deny(400, 'GH_ERR_INVALID_MODEL', `invalid-model:name:${route.modelParam}`, 'invalid model name')
    models.push(canonical)
  }

  let forwardBody: Buffer | null = null
  let stream: JsonKind | null = null
  let uploads = false
  let usageAdded = false
  if (route.body === 'json') {
    const read = readModelFields(route, rawBody ?? EMPTY)
    if (!read.ok) return read
    models.push(...read.models)
    forwardBody = read.forwardBody
    stream = read.stream
    uploads = read.uploads
    usageAdded = read.usageAdded
  } else if (route.body === 'binary') {
    forwardBody = rawBody ?? EMPTY
  }

  // one role must grant the permission and every model together (a copy needs both names in one role)
  if (models.length > 0 && !policy.allows(roles, route.permission, models)) {
    return deny(403, 'GH_ERR_MODEL_FORBIDDEN', 'model-forbidden', 'model not allowed for this role',
      refusedFirst(policy, roles, route, models))
  }
  if (uploads && !policy.allows(roles, 'models:upload', models)) {
    return deny(403, 'GH_ERR_FORBIDDEN', 'permission:models:upload', 'forbidden', models)
  }
  return { ok: true, forwardBody, models, stream, usageAdded }
}

/** The models with the first one no role allows on its own moved to the front (unchanged when each is allowed by some role). */
function refusedFirst (policy: Policy, roles: readonly string[], route: ProxiedRoute, models: string[]): string[] {
  const i = models.findIndex((m) => !policy.allows(roles, route.permission, [m]))
  return i <= 0 ? models : [models[i] as string, ...models.slice(0, i), ...models.slice(i + 1)]
}

type FieldsRead = { ok: true, models: string[], forwardBody: Buffer, stream: JsonKind | null, uploads: boolean, usageAdded: boolean } | Deny

/** Streamed replies of these routes carry token counts only when the request asks for them. */
const USAGE_ON_REQUEST = new Set(['POST /v1/chat/completions', 'POST /v1/completions'])

function readModelFields (route: ProxiedRoute, body: Buffer): FieldsRead {
  const scan = scanBody(body)
  if (!scan.ok) {
    return scan.error === 'empty'
      ? deny(400, 'GH_ERR_INVALID_JSON', 'body:empty', 'request body is not valid JSON')
      : deny(400, 'GH_ERR_INVALID_JSON', `body:invalid-json${scan.error === 'depth' ? ':depth' : ''}`, 'request body is not valid JSON')
  }
  if (scan.kind !== 'object') return deny(400, 'GH_ERR_BODY_NOT_OBJECT', `body:not-object:${scan.kind}`,
    'request body must be a JSON object')
  const members = scan.members

  const refused = REFUSED_FIELDS[route.id] ?? []
  const uploadKeys = UPLOAD_FIELDS[route.id] ?? []
  const modelKeys = route.modelFields.flatMap((f) => f.legacy === undefined ? [f.primary] : [f.primary, f.legacy])
  let stream: JsonMember | null = null
  let uploads = false
  for (const m of members) {
    for (const field of refused) {
      if (goKeyMatches(m.key, field) || looksLikeKey(m.key, field)) {
        return deny(400, 'GH_ERR_BAD_REQUEST', `body:unsupported-field:${field}`, `field "${field}" is not supported`)
      }
    }
    for (const field of [...modelKeys, ...uploadKeys]) {
      if (looksLikeKey(m.key, field)) {
        return deny(400, 'GH_ERR_BAD_REQUEST', `body:ambiguous-key:${field}`, 'request body has an ambiguous field name')
      }
    }
    // any non-null spelling counts, even one a later duplicate would overwrite
    if (m.kind !== 'null' && uploadKeys.some((field) => goKeyMatches(m.key, field))) uploads = true
    if (goKeyMatches(m.key, STREAM)) stream = m
  }

  const models: string[] = []
  const chosen: Array<[string, string]> = []
  for (const field of route.modelFields) {
    const primary = lastValue(body, members, field.primary)
    if (typeof primary !== 'string' && primary !== null) return primary
    const legacy = field.legacy === undefined ? null : lastValue(body, members, field.legacy)
    if (typeof legacy !== 'string' && legacy !== null) return legacy
    // Ollama: cmp.Or(req.Model, req.Name)
    const value = primary !== null && primary !== '' ? primary : (legacy ?? '')
    if (value === '') {
      if (!field.required) continue
      return deny(400, 'GH_ERR_INVALID_MODEL', `invalid-model:missing:${field.primary}`, 'a model is required')
    }
    const canonical = parseModelName(value)
    if (canonical === null) return deny(400, 'GH_ERR_INVALID_MODEL', `invalid-model:name:${field.primary}`, 'invalid model name')
    models.push(canonical)
    chosen.push([field.primary, value])
  }
  // a stream Ollama will not count unless asked: ask, replacing what the client sent (which did not ask)
  const usageAdded = USAGE_ON_REQUEST.has(route.id) && stream?.kind === 'true' && clientIncludesUsage(body, members) === false
  const forwardBody = rebuild(body, members, modelKeys, chosen, stream, usageAdded)
  return { ok: true, models, forwardBody, stream: stream?.kind ?? null, uploads, usageAdded }
}

/** The value Go would decode into `field` (last matching member), null when absent, a Deny when not a string. */
function lastValue (body: Buffer, members: readonly JsonMember[], field: string): string | null | Deny {
  let found: JsonMember | null = null
  for (const m of members) {
    if (!goKeyMatches(m.key, field)) continue
    // any non-string spelling is refused, even an earlier one Go would overwrite (Go reports it as an error)
    if (m.kind !== 'string') return deny(400, 'GH_ERR_INVALID_MODEL', `invalid-model:not-string:${field}`, 'model must be a string')
    found = m
  }
  return found === null ? null : decodeString(body, found.valueStart, found.valueEnd)
}

/**
 * The body with every spelling of the model fields removed and the checked values set once, under
 * their canonical keys; of the members Go reads as `stream` only the last (the one Ollama uses, and
 * the one `stream` reports) is kept, so a later re-serialization cannot change which one wins.
 * Every other member is copied byte for byte. With `addUsage`, every `stream_options` member is
 * replaced by one that asks for the usage chunk.
 */
function rebuild (
  body: Buffer, members: readonly JsonMember[], modelKeys: readonly string[], chosen: ReadonlyArray<[string, string]>,
    stream: JsonMember | null, addUsage = false
): Buffer {
  const parts: Buffer[] = [OPEN]
  for (const [key, value] of chosen) {
    if (parts.length > 1) parts.push(COMMA)
    parts.push(Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(value)}`))
  }
  for (const m of members) {
    if (modelKeys.some((k) => goKeyMatches(m.key, k))) continue
    if (m !== stream && stream !== null && goKeyMatches(m.key, STREAM)) continue
    if (addUsage && isStreamOptions(m)) continue
    if (parts.length > 1) parts.push(COMMA)
    parts.push(body.subarray(m.keyStart, m.keyEnd), COLON, body.subarray(m.valueStart, m.valueEnd))
  }
  if (addUsage) {
    if (parts.length > 1) parts.push(COMMA)
    parts.push(Buffer.from(ADDED_STREAM_OPTIONS))
  }
  parts.push(CLOSE)
  return Buffer.concat(parts)
}

/** The client-facing error for a denial, from src/errors.ts. */
export function authzError (result: Deny): Error {
  switch (result.code) {
    case 'GH_ERR_FORBIDDEN': return new errors.FORBIDDEN(result.reason.replace(/^permission:/, ''))
    case 'GH_ERR_MODEL_FORBIDDEN': return new errors.MODEL_FORBIDDEN(result.models[0] ?? '')
    case 'GH_ERR_INVALID_JSON': return new errors.INVALID_JSON()
    case 'GH_ERR_BODY_NOT_OBJECT': return new errors.BODY_NOT_OBJECT()
    case 'GH_ERR_INVALID_MODEL': return new errors.INVALID_MODEL(result.message)
    case 'GH_ERR_BAD_REQUEST': return new errors.BAD_REQUEST(result.message)
  }
}
