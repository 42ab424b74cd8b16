// Small helpers for masking text held in parsed JSON replies and requests.
import { BadReply, isObj, type Obj } from '../ollama/json-object.js'

export { BadReply, isObj, parseObject, type Obj } from '../ollama/json-object.js'
export type MaskFn = (text: string) => string

/**
 * Whether a known text field holds text to mask: true for a string, false when absent or null.
 * Anything else (a number, an object, a list) is a shape the masker cannot read: refused.
 */
export function isText (v: unknown, field: string): v is string {
  if (typeof v === 'string') return true
  if (v === undefined || v === null) return false
  throw new BadReply(`${field} is not text`)
}

/**
 * Masks every string (and every number whose digits are a match) inside a JSON value, e.g. tool-call
 * arguments, object keys included: the model writes those too.
 */
function maskDeep (value: unknown, mask: MaskFn): unknown {
  if (typeof value === 'string') return mask(value)
  if (typeof value === 'number') {
    const s = String(value)
    const m = mask(s)
    return m === s ? value : m
  }
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask))
  if (isObj(value)) {
    const out: Obj = {}
    for (const [k, v] of Object.entries(value)) out[mask(k)] = maskDeep(v, mask)
    return out
  }
  return value
}

/**
 * Tool-call arguments as OpenAI sends them (a JSON text) or Ollama does (an object). A JSON text is
 * parsed and its values masked, then re-serialized, so a value after a `\n` escape is seen as the
 * model meant it; a text that is not JSON is masked as text.
 */
export function maskArguments (args: unknown, mask: MaskFn): unknown {
  if (typeof args !== 'string') return maskDeep(args, mask)
  let parsed: unknown
  try {
    parsed = JSON.parse(args)
  } catch {
    return mask(args)
  }
  return JSON.stringify(maskDeep(parsed, mask))
}

/**
 * A reply object carrying `error`: only a fresh `{ error }` is sent, its strings masked (a message,
 * or an object's values), never the object's other fields. Null when obj is not an error.
 */
export function errorOnly (obj: Obj, mask: MaskFn): Obj | null {
  if (!('error' in obj)) return null
  return { error: maskDeep(obj.error, mask) }
}

/** Tool calls of a message or delta: a list of objects whose `function`, if any, is an object; anything else is refused. */
export function toolCalls (holder: Obj): Obj[] {
  const calls = holder.tool_calls
  if (calls === undefined || calls === null) return []
  if (!Array.isArray(calls)) throw new BadReply('tool_calls is not a list')
  for (const tc of calls) {
    if (!isObj(tc)) throw new BadReply('tool call is not an object')
    if (tc.function !== undefined && tc.function !== null && !isObj(tc.function)) throw new BadReply('tool call function is not an object')
  }
  return calls as Obj[]
}

/** A rule's answer for a field that is not sent on. */
export const DROP: unique symbol = Symbol('drop')
/** What to do with one known field's value: the value to send, or DROP. */
export type FieldRule = (value: unknown) => unknown

/** Sets obj[key] as an own property, whatever the key (`__proto__` included). */
function put (obj: Obj, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}

/**
 * A reply object rebuilt field by field: a known field goes through its rule; a field the rules do
 * not know is masked as a whole, its key included (strings and the digits of numbers, recursively),
 * so no field passes unexamined.
 */
export function reshape (obj: Obj, rules: Readonly<Record<string, FieldRule>>, mask: MaskFn): Obj {
  const out: Obj = {}
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue
    const v = obj[k]
    const rule = Object.hasOwn(rules, k) ? rules[k] : undefined
    if (rule === undefined) {
      put(out, mask(k), maskDeep(v, mask))
      continue
    }
    const r = rule(v)
    if (r !== DROP) put(out, k, r)
  }
  return out
}

/** Every string inside a value masked (object keys too); numbers, booleans and null pass. */
export function maskStrings (value: unknown, mask: MaskFn): unknown {
  if (typeof value === 'string') return mask(value)
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, mask))
  if (isObj(value)) {
    const out: Obj = {}
    for (const [k, v] of Object.entries(value)) put(out, mask(k), maskStrings(v, mask))
    return out
  }
  return value
}

/** An embedding (or a list of them): a list of numbers passes as it is; anything else is masked. */
function vector (v: unknown, mask: MaskFn): unknown {
  if (!Array.isArray(v)) return maskStrings(v, mask)
  return v.every((x) => typeof x === 'number') ? v : v.map((x) => vector(x, mask))
}

/** An RFC 3339 time as Ollama writes it (`created_at`, `modified_at`): digits in fixed places, no room for a value. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/
const MEMO_LIMIT = 64

/**
 * Rules for the common field types of a reply, under one mask. One set serves a whole stream: the
 * metadata texts it has seen mask to themselves (a model name, a chunk id, repeated on every line)
 * are remembered, so each is scanned once.
 */
export function fieldRules (mask: MaskFn) {
  const clean = new Set<string>()
  const text = (v: string): string => {
    if (clean.has(v)) return v
    const m = mask(v)
    if (m === v) {
      if (clean.size >= MEMO_LIMIT) clean.clear()
      clean.add(v)
    }
    return m
  }
  return {
    /** metadata text (model, role, done_reason, ids): masked; any other value masked as a whole */
    text: (v: unknown): unknown => typeof v === 'string' ? text(v) : maskDeep(v, mask),
    /** a time: passes when it is a plain RFC 3339 time, else masked as text */
    time: (v: unknown): unknown => typeof v === 'string' && TIMESTAMP.test(v) ? v : typeof v === 'string' ? text(v) : maskDeep(v, mask),
    /** a known number or boolean: passes; any other value masked as a whole */
    num: (v: unknown): unknown => typeof v === 'number' || typeof v === 'boolean' || v === null ? v : maskDeep(v, mask),
    /** structured metadata (details, usage, model_info): strings masked, numbers pass */
    strings: (v: unknown): unknown => maskStrings(v, mask),
    /** a vector (or list of vectors): numbers pass, anything else masked */
    vector: (v: unknown): unknown => vector(v, mask),
    /** fields never sent while masking is on */
    drop: (): typeof DROP => DROP,
    /** the other reply variant's text container: a shape the masker cannot read */
    refuse: (name: string) => (v: unknown): unknown => {
      if (v === undefined || v === null) return v
      throw new BadReply(`unexpected ${name}`)
    }
  }
}
export type Rules = ReturnType<typeof fieldRules>

/** The name of one of fieldRules' rules. */
export type RuleName = 'text' | 'time' | 'num' | 'strings' | 'vector' | 'drop'
/** Which rule each known field of a reply kind takes, by name: built once per kind, not per reply. */
export type RuleTable = Readonly<Record<string, RuleName>>

/** A kind's rule table under one reply's rules: a plain object filled by a loop, cheap per reply. */
export function rulesOf (table: RuleTable, r: Rules): Record<string, FieldRule> {
  const out: Record<string, FieldRule> = {}
  for (const k in table) out[k] = r[table[k] as RuleName]
  return out
}

/** The same rule (or rule name, to build a RuleTable) for each of `keys`. */
export const each = <T extends FieldRule | RuleName>(keys: readonly string[], rule: T): Record<string, T> =>
  Object.fromEntries(keys.map((k) => [k, rule]))
