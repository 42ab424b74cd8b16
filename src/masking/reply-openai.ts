// OpenAI-compatible replies (/v1/chat/completions, /v1/completions). Streamed: SSE chunks, where
// each choice index has its own masked streams (content, reasoning, …); a choice's held text is
// flushed into the chunk carrying its finish_reason, anything left before `data: [DONE]`. A tool
// call's streamed `arguments` are fragments of one JSON text: they are held whole and released at
// that same flush, parsed and masked value by value (as text, a value after a `\n` escape would be
// read with the escape letter in front of it). Not streamed: one document. `logprobs` is dropped
// (per-token text); an object carrying `error` goes out as a fresh `{"error":…}` only; a text field
// that is neither a string nor null, or a choice list of another shape, is refused.
import { DEFAULT_MAX_FRAME_BYTES } from '../ollama/framing.js'
import type { StreamMasker } from './stream-masker.js'
import { BadReply, errorOnly, isObj, isText, maskArguments, maskField, toolCalls, type MaskFn, type Obj } from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

type Kind = 'openai-chat' | 'openai-completion'
const DELTA_FIELDS = ['content', 'reasoning', 'reasoning_content', 'refusal'] as const
const TOOL = 'tool:'

/** Holds one tool call's argument fragments; at flush, masks the whole JSON text value by value. */
function argumentBuffer (mask: MaskFn): StreamMasker {
  let text = ''
  return {
    push (chunk) {
      text += chunk
      if (text.length > DEFAULT_MAX_FRAME_BYTES) throw new BadReply('tool-call arguments too long')
      return ''
    },
    flush () {
      const t = text
      text = ''
      return t === '' ? '' : maskArguments(t, mask) as string
    }
  }
}

/** choices of a reply object: absent or null is none; anything but a list of objects is refused */
function choicesOf (obj: Obj): Obj[] {
  const cs = obj.choices
  if (cs === undefined || cs === null) return []
  if (!Array.isArray(cs)) throw new BadReply('choices is not a list')
  for (const c of cs) if (!isObj(c)) throw new BadReply('choice is not an object')
  return cs as Obj[]
}

/** an object-valued field (delta, message): absent or null is none; any other non-object is refused */
function objectAt (obj: Obj, key: string): Obj | null {
  const v = obj[key]
  if (isObj(v)) return v
  if (v === undefined || v === null) return null
  throw new BadReply(`${key} is not an object`)
}

const indexOf = (v: Obj, position: number): number => typeof v.index === 'number' ? v.index : position

export function openAiStreamRewriter (kind: Kind, mask: MaskFn, newStream: () => StreamMasker): ReplyRewriter {
  // choice index → field ("content", "tool:<index>", …) → stream
  const streams = new Map<number, Map<string, StreamMasker>>()
  const head: Obj = {}
  const stream = (choice: number, field: string): StreamMasker => {
    let m = streams.get(choice)
    if (m === undefined) streams.set(choice, m = new Map())
    let s = m.get(field)
    if (s === undefined) m.set(field, s = field.startsWith(TOOL) ? argumentBuffer(mask) : newStream())
    return s
  }
  const flushChoice = (choice: number): Map<string, string> => {
    const rest = new Map<string, string>()
    for (const [f, s] of streams.get(choice) ?? []) {
      const r = s.flush()
      if (r !== '') rest.set(f, r)
    }
    return rest
  }
  // puts held text into a choice object (a delta for chat, the choice itself for completions)
  const place = (choice: Obj, rest: Map<string, string>): void => {
    if (kind === 'openai-completion') {
      const r = rest.get('text')
      if (r !== undefined) choice.text = (typeof choice.text === 'string' ? choice.text : '') + r
      return
    }
    if (!isObj(choice.delta)) choice.delta = {}
    const delta = choice.delta as Obj
    for (const [f, r] of rest) {
      if (!f.startsWith(TOOL)) {
        delta[f] = (typeof delta[f] === 'string' ? delta[f] : '') + r
        continue
      }
      const ti = Number(f.slice(TOOL.length))
      if (!Array.isArray(delta.tool_calls)) delta.tool_calls = []
      const calls = delta.tool_calls as unknown[]
      let tc = calls.find((c, k): c is Obj => isObj(c) && indexOf(c, k) === ti)
      if (tc === undefined) calls.push(tc = { index: ti, function: {} })
      if (!isObj(tc.function)) tc.function = {}
      const fn = tc.function as Obj
      fn.arguments = (typeof fn.arguments === 'string' ? fn.arguments : '') + r
    }
  }
  const syntheticChunks = (): Obj[] => {
    const choices: Obj[] = []
    for (const idx of [...streams.keys()].sort((a, b) => a - b)) {
      const rest = flushChoice(idx)
      if (rest.size === 0) continue
      const c: Obj = kind === 'openai-chat' ? { index: idx, delta: {} } : { index: idx, text: '' }
      place(c, rest)
      c.finish_reason = null
      choices.push(c)
    }
    return choices.length > 0 ? [{ ...head, choices }] : []
  }
  const maskChoice = (c: Obj, position: number): void => {
    const idx = indexOf(c, position)
    delete c.logprobs
    if (kind === 'openai-completion') {
      if (isText(c.text, 'text')) c.text = stream(idx, 'text').push(c.text)
    } else {
      const d = objectAt(c, 'delta')
      if (d !== null) {
        for (const f of DELTA_FIELDS) {
          const v = d[f]
          if (isText(v, f)) d[f] = stream(idx, f).push(v)
        }
        toolCalls(d).forEach((tc, k) => {
          if (!isObj(tc.function)) return
          const fn = tc.function
          if (typeof fn.arguments === 'string') fn.arguments = stream(idx, TOOL + String(indexOf(tc, k))).push(fn.arguments)
          else if ('arguments' in fn) fn.arguments = maskArguments(fn.arguments, mask)
        })
      }
    }
    if (c.finish_reason !== null && c.finish_reason !== undefined) {
      const rest = flushChoice(idx)
      if (rest.size > 0) place(c, rest)
    }
  }
  return {
    next (obj) {
      const error = errorOnly(obj, mask)
      if (error !== null) return [...syntheticChunks(), error]
      for (const k of ['id', 'object', 'created', 'model', 'system_fingerprint']) if (k in obj) head[k] = obj[k]
      choicesOf(obj).forEach(maskChoice)
      return [obj]
    },
    end: syntheticChunks
  }
}

/** message.content of a non-streamed reply: text, null, or a list of text parts (each masked) */
function maskContent (msg: Obj, mask: MaskFn): void {
  const c = msg.content
  if (!Array.isArray(c)) return maskField(msg, 'content', mask)
  for (const part of c) {
    if (!isObj(part) || typeof part.text !== 'string') throw new BadReply('content part is not text')
    part.text = mask(part.text)
  }
}

export function maskOpenAiDocument (kind: Kind, obj: Obj, mask: MaskFn): Obj {
  const error = errorOnly(obj, mask)
  if (error !== null) return error
  for (const c of choicesOf(obj)) {
    delete c.logprobs
    if (kind === 'openai-completion') {
      maskField(c, 'text', mask)
      continue
    }
    const msg = objectAt(c, 'message')
    if (msg === null) continue
    maskContent(msg, mask)
    for (const f of DELTA_FIELDS) if (f !== 'content') maskField(msg, f, mask)
    for (const tc of toolCalls(msg)) {
      if (isObj(tc.function) && 'arguments' in tc.function) tc.function.arguments = maskArguments(tc.function.arguments, mask)
    }
  }
  return obj
}
