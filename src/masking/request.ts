// direction: both — prompts are masked before Ollama sees them. Ollama decodes with Go's
// encoding/json, which matches keys case-insensitively (with Unicode simple folding), so every key
// that folds to a prompt field is masked, not just the lower-case one. The checked body is rewritten
// member by member: a top-level member without masked text keeps its exact bytes, so numbers no
// JavaScript double can hold (a 64-bit seed) reach Ollama as the client wrote them.
import { isDeepStrictEqual } from 'node:util'
import type { ReplyKind } from '../ollama/routes.js'
import { goKeyMatches, scanBody } from '../ollama/go-json.js'
import { isObj, maskArguments, type MaskFn, type Obj } from './fields.js'

function keysOf (obj: Obj, name: string): string[] {
  return Object.keys(obj).filter((k) => goKeyMatches(k, name))
}

function maskText (obj: Obj, name: string, mask: MaskFn): void {
  for (const k of keysOf(obj, name)) if (typeof obj[k] === 'string') obj[k] = mask(obj[k])
}

function maskTextOrList (obj: Obj, name: string, mask: MaskFn): void {
  for (const k of keysOf(obj, name)) {
    const v = obj[k]
    if (typeof v === 'string') obj[k] = mask(v)
    else if (Array.isArray(v)) obj[k] = v.map((x) => (typeof x === 'string' ? mask(x) : x))
  }
}

function maskMessage (msg: unknown, mask: MaskFn): void {
  if (!isObj(msg)) return
  for (const k of keysOf(msg, 'content')) {
    const c = msg[k]
    if (typeof c === 'string') msg[k] = mask(c)
    else if (Array.isArray(c)) {
      // OpenAI content parts: text parts carry text (images and audio are passed as they are)
      for (const part of c) if (isObj(part)) maskText(part, 'text', mask)
    }
  }
  maskText(msg, 'thinking', mask)
  maskText(msg, 'reasoning', mask)
  for (const k of keysOf(msg, 'tool_calls')) {
    const calls = msg[k]
    if (!Array.isArray(calls)) continue
    for (const tc of calls) {
      if (!isObj(tc)) continue
      for (const fk of keysOf(tc, 'function')) {
        const fn = tc[fk]
        if (isObj(fn)) for (const ak of keysOf(fn, 'arguments')) fn[ak] = maskArguments(fn[ak], mask)
      }
    }
  }
}

/** The top-level fields that can hold prompt text, per request kind. */
const PROMPT_FIELDS: Partial<Record<ReplyKind, readonly string[]>> = {
  generate: ['prompt', 'system', 'suffix'],
  chat: ['messages'],
  'openai-chat': ['messages'],
  'openai-completion': ['prompt', 'suffix'],
  embed: ['input', 'prompt'],
  'openai-embed': ['input']
}

/**
 * The checked body (a JSON object, as the policy re-serialized it) with its prompt text masked.
 * Only a member whose value the masking changed is re-serialized; every other byte is kept.
 */
export function maskRequestBytes (kind: ReplyKind, body: Buffer, mask: MaskFn): Buffer {
  const fields = PROMPT_FIELDS[kind] ?? []
  const scan = scanBody(body)
  // the policy has already refused anything that is not an object
  if (fields.length === 0 || !scan.ok || scan.kind !== 'object') return body
  const parts: Buffer[] = []
  let copied = 0
  for (const m of scan.members) {
    if (!fields.some((f) => goKeyMatches(m.key, f))) continue
    const value: unknown = JSON.parse(body.toString('utf8', m.valueStart, m.valueEnd))
    const masked = maskRequestBody(kind, { [m.key]: value }, mask)[m.key]
    if (isDeepStrictEqual(masked, value)) continue
    parts.push(body.subarray(copied, m.valueStart), Buffer.from(JSON.stringify(masked)))
    copied = m.valueEnd
  }
  if (parts.length === 0) return body
  parts.push(body.subarray(copied))
  return Buffer.concat(parts)
}

/** A masked copy of a parsed request body (the caller's object is left as it was). */
function maskRequestBody (kind: ReplyKind, body: Obj, mask: MaskFn): Obj {
  const copy = structuredClone(body)
  switch (kind) {
    case 'generate':
      for (const k of ['prompt', 'system', 'suffix']) maskText(copy, k, mask)
      break
    case 'chat':
    case 'openai-chat':
      for (const k of keysOf(copy, 'messages')) {
        const list = copy[k]
        if (Array.isArray(list)) for (const m of list) maskMessage(m, mask)
      }
      break
    case 'openai-completion':
      maskTextOrList(copy, 'prompt', mask)
      maskText(copy, 'suffix', mask)
      break
    case 'embed':
      maskTextOrList(copy, 'input', mask)
      maskText(copy, 'prompt', mask) // legacy /api/embeddings
      break
    case 'openai-embed':
      maskTextOrList(copy, 'input', mask)
      break
    default:
      break
  }
  return copy
}
