// Ollama model names in one canonical spelling, so a policy glob and Ollama agree on which model a
// request names. Mirrors Ollama's types/model/name.go: `[host/][namespace/]model[:tag]`, default host
// registry.ollama.ai, namespace library, tag latest, parts compared case-insensitively (ASCII only).
// Anything Ollama might read in more than one way (build or digest parts, backslashes, `..`, other
// schemes) is refused rather than guessed.
import { errors } from '../errors.js'

const DEFAULT_HOST = 'registry.ollama.ai'
const DEFAULT_NAMESPACE = 'library'
const DEFAULT_TAG = 'latest'

const MAX_NAME_LENGTH = 512
const MAX_PART_LENGTH = 128
const HOST = /^[a-z0-9_][a-z0-9_.-]*(?::[0-9]{1,5})?$/
const NAMESPACE = /^[a-z0-9_][a-z0-9_-]*$/
const MODEL = /^[a-z0-9_][a-z0-9_.-]*$/
const TAG = /^[a-z0-9_][a-z0-9_.-]*$/
const SCHEME = /^https?:\/\//

export interface ModelNameParts { host: string | null, namespace: string | null, model: string, tag: string | null }

/**
 * Splits a model name into its parts, lower-cased, or null when Ollama could read it differently
 * (or not at all). `allowWildcard` lets `*` through for policy globs.
 */
export function splitModelName (name: unknown, allowWildcard = false): ModelNameParts | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) return null
  // Ollama only knows ASCII names; lower-casing ASCII is exact, so no Unicode case rules apply
  if (!/^[\x21-\x7e]+$/.test(name)) return null
  let s = name.toLowerCase()
  // Ollama strips an http(s):// prefix; any other scheme is not a name
  s = s.replace(SCHEME, '')
  if (s.includes('://') || s.includes('..') || /[+@\\]/.test(s)) return null
  const test = (re: RegExp, part: string): boolean =>
    part.length <= MAX_PART_LENGTH && re.test(allowWildcard ? part.replaceAll('*', 'x') : part)
  const segments = s.split('/')
  if (segments.length > 3) return null
  const last = segments.pop() as string
  const colon = last.indexOf(':')
  const model = colon === -1 ? last : last.slice(0, colon)
  const tag = colon === -1 ? null : last.slice(colon + 1)
  if (!test(MODEL, model) || (tag !== null && !test(TAG, tag))) return null
  const namespace = segments.pop() ?? null
  if (namespace !== null && !test(NAMESPACE, namespace)) return null
  const host = segments.pop() ?? null
  if (host !== null && !test(HOST, host)) return null
  return { host, namespace, model, tag }
}

/** Joins parts in canonical form: the default host and (under it) the default namespace are left out. */
export function joinModelName (p: ModelNameParts, defaultTag: string | null = DEFAULT_TAG): string {
  let host = p.host
  let namespace = p.namespace
  if (host === DEFAULT_HOST) host = null
  if (host === null && namespace === DEFAULT_NAMESPACE) namespace = null
  const tag = p.tag ?? defaultTag
  return `${host === null ? '' : host + '/'}${namespace === null ? '' : namespace + '/'}${p.model}${tag === null ? '' : ':' + tag}`
}

/** The canonical name (`llama3.2` → `llama3.2:latest`), or null when the name is not one Gatehouse accepts. */
export function parseModelName (name: unknown): string | null {
  const parts = splitModelName(name)
  return parts === null ? null : joinModelName(parts)
}

/**
 * `llama3.2` → `llama3.2:latest`; `registry.ollama.ai/library/x` and `library/x` → `x:latest`;
 * lower case. Throws GH_ERR_INVALID_MODEL for a name Ollama could read differently or not at all.
 */
export function canonicalModel (name: string): string {
  const canonical = parseModelName(name)
  if (canonical === null) throw new errors.INVALID_MODEL('invalid model name')
  return canonical
}
