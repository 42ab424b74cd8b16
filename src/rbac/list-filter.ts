// Model lists show only what the caller may use: /api/tags and /api/ps ({"models":[{name, model, …}]})
// and /v1/models ({"object":"list","data":[{id, …}]}). Pure functions over a whole (non-streamed)
// upstream reply; a reply they cannot read is refused (GH_ERR_UPSTREAM_BAD_REPLY), never passed through.
import { errors } from '../errors.js'
import { parseModelName } from '../ollama/model-name.js'

/** Receives a canonical model name; true when the caller may use it. */
export type ModelPredicate = (canonicalModel: string) => boolean

/** /api/tags and /api/ps: both reply `{"models":[{name, model, …}]}`. */
export function filterTags (body: Buffer, allowed: ModelPredicate): Buffer {
  return filterList(body, 'models', ['name', 'model'], allowed)
}

/**
 * The same function as filterTags (one reply shape). Kept as a name only for src/pipeline/reply-stages.ts,
 * which can call filterTags for 'ps' too; then this alias goes.
 */

export function filterOpenAiModels (body: Buffer, allowed: ModelPredicate): Buffer {
  return filterList(body, 'data', ['id'], allowed)
}

function filterList (body: Buffer, listKey: string, nameKeys: readonly string[], allowed: ModelPredicate): Buffer {
  // a HEAD reply has no body, so there is nothing to leak
  if (body.length === 0) return body
  let reply: unknown
  try {
    reply = JSON.parse(body.toString('utf8'))
  } catch {
    throw new errors.UPSTREAM_BAD_REPLY()
  }
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) throw new errors.UPSTREAM_BAD_REPLY()
  const list = (reply as Record<string, unknown>)[listKey]
  if (list === null || list === undefined) return Buffer.from(JSON.stringify(reply))
  if (!Array.isArray(list)) throw new errors.UPSTREAM_BAD_REPLY()
  const kept = list.filter((entry) => entryAllowed(entry, nameKeys, allowed))
  // JSON.parse made own properties only; spreading copies them without touching any prototype
  return Buffer.from(JSON.stringify({ ...(reply as object), [listKey]: kept }))
}

/** Kept when it names at least one model and every name it carries is allowed. */
function entryAllowed (entry: unknown, nameKeys: readonly string[], allowed: ModelPredicate): boolean {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return false
  let named = false
  for (const key of nameKeys) {
    if (!Object.hasOwn(entry, key)) continue
    const canonical = parseModelName((entry as Record<string, unknown>)[key])
    if (canonical === null || !allowed(canonical)) return false
    named = true
  }
  return named
}
