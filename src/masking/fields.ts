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

/** Masks the text at obj[key]; absent or null is kept, any other value is refused. */
export function maskField (obj: Obj, key: string, mask: MaskFn): void {
  const v = obj[key]
  if (isText(v, key)) obj[key] = mask(v)
}

/**
 * Masks every string (and every number whose digits are a match) inside a JSON value, e.g. tool-call
 * arguments, object keys included: the model writes those too.
 */
export function maskDeep (value: unknown, mask: MaskFn): unknown {
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
