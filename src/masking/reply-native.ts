// Ollama's native replies (/api/generate, /api/chat). Streamed: NDJSON lines, each text field its own
// masked stream, held text flushed into the closing line ("done":true). Not streamed: one document.
// `context` (token ids of the conversation, i.e. the unmasked text) and `logprobs` (per-token text)
// would carry model output around the masker, so they are dropped. A line carrying `error` goes out
// as a fresh `{"error":…}` only. A text field that is neither a string nor null is refused.
import type { StreamMasker } from './stream-masker.js'
import { BadReply, errorOnly, isObj, isText, maskArguments, maskField, toolCalls, type MaskFn, type Obj } from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

type Kind = 'generate' | 'chat'
const FIELDS = ['content', 'thinking'] as const
const GENERATE_FIELDS = ['response', 'thinking'] as const

function maskToolCalls (msg: Obj, mask: MaskFn): void {
  for (const tc of toolCalls(msg)) {
    if (isObj(tc.function) && 'arguments' in tc.function) tc.function.arguments = maskArguments(tc.function.arguments, mask)
  }
}

/** chat: the message, if any; a `message` that is not an object is refused */
function messageOf (obj: Obj): Obj | null {
  const m = obj.message
  if (isObj(m)) return m
  if (m === undefined || m === null) return null
  throw new BadReply('message is not an object')
}

function dropLeaks (obj: Obj): void {
  delete obj.context
  delete obj.logprobs
}

export function nativeStreamRewriter (kind: Kind, mask: MaskFn, newStream: () => StreamMasker): ReplyRewriter {
  const fields: readonly string[] = kind === 'generate' ? GENERATE_FIELDS : FIELDS
  const streams = new Map<string, StreamMasker>()
  let model: unknown
  let createdAt: unknown
  const stream = (f: string): StreamMasker => {
    let s = streams.get(f)
    if (s === undefined) streams.set(f, s = newStream())
    return s
  }
  const flushAll = (): Map<string, string> => {
    const rest = new Map<string, string>()
    for (const [f, s] of streams) {
      const r = s.flush()
      if (r !== '') rest.set(f, r)
    }
    return rest
  }
  const target = (obj: Obj, create: boolean): Obj | null => {
    if (kind === 'generate') return obj
    const m = messageOf(obj)
    if (m !== null || !create) return m
    return (obj.message = { role: 'assistant', content: '' })
  }
  const appendRest = (t: Obj, rest: Map<string, string>): void => {
    for (const [f, r] of rest) t[f] = (typeof t[f] === 'string' ? t[f] : '') + r
  }
  const synthetic = (rest: Map<string, string>): Obj => {
    const line: Obj = { model, created_at: createdAt }
    appendRest(target(line, true) as Obj, rest)
    line.done = false
    return line
  }
  return {
    next (obj) {
      const error = errorOnly(obj, mask)
      if (error !== null) {
        const rest = flushAll()
        return rest.size > 0 ? [synthetic(rest), error] : [error]
      }
      if ('model' in obj) model = obj.model
      if ('created_at' in obj) createdAt = obj.created_at
      dropLeaks(obj)
      const t = target(obj, false)
      if (t !== null) {
        for (const f of fields) {
          const v = t[f]
          if (isText(v, f)) t[f] = stream(f).push(v)
        }
        if (kind === 'chat') maskToolCalls(t, mask)
      }
      if (obj.done === true) {
        const rest = flushAll()
        if (rest.size > 0) appendRest(target(obj, true) as Obj, rest)
      }
      return [obj]
    },
    end () {
      const rest = flushAll()
      return rest.size > 0 ? [synthetic(rest)] : []
    }
  }
}

export function maskNativeDocument (kind: Kind, obj: Obj, mask: MaskFn): Obj {
  const error = errorOnly(obj, mask)
  if (error !== null) return error
  dropLeaks(obj)
  if (kind === 'generate') {
    for (const f of GENERATE_FIELDS) maskField(obj, f, mask)
    return obj
  }
  const msg = messageOf(obj)
  if (msg !== null) {
    for (const f of FIELDS) maskField(msg, f, mask)
    maskToolCalls(msg, mask)
  }
  return obj
}
