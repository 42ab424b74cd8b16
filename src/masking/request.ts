// direction: both — prompts are masked before Ollama sees them. Returns a masked copy.
// Ollama decodes with Go's encoding/json, which matches keys case-insensitively (with Unicode
// simple folding), so every key that folds to a prompt field is masked, not just the lower-case one.
import type { ReplyKind } from '../ollama/routes.js'
import { isObj, maskArguments, type MaskFn, type Obj } from './fields.js'

const fold = (k: string): string => k.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').toLowerCase()

function keysOf (obj: Obj, name: string): string[] {
  return Object.keys(obj).filter((k) => fold(k) === name)
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

export function maskRequestBody (kind: ReplyKind, body: Obj, mask: MaskFn): Obj {
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
