// Ollama's native replies (/api/generate, /api/chat). Streamed: NDJSON lines, each text field its own
// masked stream, held text flushed into the closing line ("done":true). Not streamed: one document.
// Every line is rebuilt field by field (fields.ts reshape): the text fields are masked as streams
// (or whole, in a document), metadata text (model, done_reason, role, tool-call names and ids) is
// masked, known numbers and booleans pass, and a field without a rule is masked as a whole.
// `context` (token ids of the conversation, i.e. the unmasked text) and `logprobs` (per-token text)
// would carry model output around the masker, so they are dropped. A line carrying `error` goes out
// as a fresh `{"error":…}` only. A text field that is neither a string nor null, or text in the other
// route's field (`message` on generate, `response` on chat), is refused.
import type { StreamMasker } from './stream-masker.js'
import {
  BadReply, each, errorOnly, fieldRules, isObj, isText, maskArguments, reshape, toolCalls,
  type FieldRule, type MaskFn, type Obj, type Rules
} from './fields.js'
import { readTokenLine } from '../ollama/token-line.js'
import type { ReplyRewriter } from './reply-rewriter.js'

type Kind = 'generate' | 'chat'
const METRICS = ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration']

/** How a model-written text field is masked: as its stream, or whole (a document). */
type TextRule = (field: string) => FieldRule

/** The rules of the fields of one line or document of `kind` (a chat message's, under `message`). */
function lineRules (kind: Kind, mask: MaskFn, textRule: TextRule, r: Rules = fieldRules(mask)): Record<string, FieldRule> {
  const common: Record<string, FieldRule> = {
    model: r.text, created_at: r.time, done: r.num, done_reason: r.text, context: r.drop, logprobs: r.drop, ...each(METRICS, r.num)
  }
  if (kind === 'generate') {
    return { ...common, response: textRule('response'), thinking: textRule('thinking'), message: r.refuse('message') }
  }
  const fn: Record<string, FieldRule> = { name: r.text, index: r.num, arguments: (a) => maskArguments(a, mask) }
  const call: Record<string, FieldRule> = {
    id: r.text, type: r.text, index: r.num, function: (f) => isObj(f) ? reshape(f, fn, mask) : f
  }
  const message: Record<string, FieldRule> = {
    role: r.text,
    content: textRule('content'),
    thinking: textRule('thinking'),
    tool_name: r.text,
    images: r.strings,
    tool_calls: (v) => {
      if (v === undefined || v === null) return v
      return toolCalls({ tool_calls: v }).map((tc) => reshape(tc, call, mask))
    }
  }
  return {
    ...common,
    response: r.refuse('response'),
    message: (m) => {
      if (isObj(m)) return reshape(m, message, mask)
      if (m === undefined || m === null) return m
      throw new BadReply('message is not an object')
    }
  }
}

export function nativeStreamRewriter (kind: Kind, mask: MaskFn, newStream: () => StreamMasker): ReplyRewriter {
  const streams = new Map<string, StreamMasker>()
  let model: unknown
  let createdAt: unknown
  const stream = (f: string): StreamMasker => {
    let s = streams.get(f)
    if (s === undefined) streams.set(f, s = newStream())
    return s
  }
  const r = fieldRules(mask)
  // one rule per model-written text field, shared by the token line and the line's rule tables
  const textRules: Record<string, FieldRule> = {}
  const textRule: TextRule = (f) => (textRules[f] ??= (v) => isText(v, f) ? stream(f).push(v) : v)
  // the whole line's rule tables are built when a line first needs them (one that is not a token
  // line, such as the closing one): a stream held open on token lines never holds them
  let tables: Record<string, FieldRule> | null = null
  const tablesNow = (): Record<string, FieldRule> => (tables ??= lineRules(kind, mask, textRule, r))
  // a token line's fields take the rules the tables give them (lineRules: model r.text, created_at
  // r.time, a message's role r.text, the text its field's textRule), the same functions
  const modelRule = r.text
  const timeRule = r.time
  const roleRule = kind === 'generate' ? null : r.text
  const tokenTextRule = textRule(kind === 'generate' ? 'response' : 'content')
  const json = (v: unknown): string => JSON.stringify(v) as string
  const flushAll = (): Map<string, string> => {
    const rest = new Map<string, string>()
    for (const [f, s] of streams) {
      const r = s.flush()
      if (r !== '') rest.set(f, r)
    }
    return rest
  }
  const target = (obj: Obj): Obj => {
    if (kind === 'generate') return obj
    if (!isObj(obj.message)) obj.message = { role: 'assistant', content: '' }
    return obj.message as Obj
  }
  const appendRest = (t: Obj, rest: Map<string, string>): void => {
    for (const [f, r] of rest) t[f] = (typeof t[f] === 'string' ? t[f] : '') + r
  }
  const synthetic = (rest: Map<string, string>): Obj => {
    const line: Obj = { model, created_at: createdAt }
    appendRest(target(line), rest)
    line.done = false
    return line
  }
  return {
    tokenLine (text) {
      const t = readTokenLine(kind, text)
      if (t === null) return null
      // the same rules, in the same order, as next() applies to the parsed line
      model = modelRule(t.model)
      createdAt = timeRule(t.createdAt)
      const head = `{"model":${json(model)},"created_at":${json(createdAt)}`
      if (roleRule === null) return `${head},"response":${json(tokenTextRule(t.text))},"done":false}`
      const role = json(roleRule(t.role))
      return `${head},"message":{"role":${role},"content":${json(tokenTextRule(t.text))}},"done":false}`
    },
    next (obj) {
      const error = errorOnly(obj, mask)
      if (error !== null) {
        const rest = flushAll()
        return rest.size > 0 ? [synthetic(rest), error] : [error]
      }
      const out = reshape(obj, tablesNow(), mask)
      if ('model' in out) model = out.model
      if ('created_at' in out) createdAt = out.created_at
      if (out.done === true) {
        const rest = flushAll()
        if (rest.size > 0) appendRest(target(out), rest)
      }
      return [out]
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
  return reshape(obj, lineRules(kind, mask, (f) => (v) => isText(v, f) ? mask(v) : v), mask)
}
