// OpenAI-compatible replies (/v1/chat/completions, /v1/completions). Streamed: SSE chunks, where
// each choice index has its own masked streams (content, reasoning, …); a choice's held text is
// flushed into the chunk carrying its finish_reason, anything left before `data: [DONE]`. A tool
// call's streamed `arguments` are fragments of one JSON text: they are held whole and released at
// that same flush, parsed and masked value by value (as text, a value after a `\n` escape would be
// read with the escape letter in front of it). Not streamed: one document. `logprobs` is dropped
// (per-token text); an object carrying `error` goes out as a fresh `{"error":…}` only; a text field
// that is neither a string nor null, a choice list of another shape, or a choice carrying text in the
// other variant's field (`message` or `text` in a chat chunk, `delta` in a document, …) is refused.
// Every object is rebuilt field by field (fields.ts reshape): metadata text (id, model,
// finish_reason, tool-call names) is masked, known numbers pass, a field without a rule is masked whole.
import { DEFAULT_MAX_FRAME_BYTES } from '../ollama/framing.js'
import type { StreamMasker } from './stream-masker.js'
import {
  BadReply, errorOnly, fieldRules, isObj, isText, maskArguments, maskStrings, reshape, toolCalls,
  type FieldRule, type MaskFn, type Obj, type Rules
} from './fields.js'
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

/** Rules for the reply object around the choices, given the rule for one choice. */
function replyRules (r: Rules, choice: (c: Obj, position: number) => Obj): Record<string, FieldRule> {
  return {
    id: r.text, object: r.text, created: r.num, model: r.text, system_fingerprint: r.text, usage: r.strings,
    choices: (v) => {
      if (v === undefined || v === null) return v
      return choicesOf({ choices: v }).map(choice)
    }
  }
}

/** Rules for a tool call, given the rule for its function's arguments. */
function toolCallRules (r: Rules, mask: MaskFn, args: FieldRule): Record<string, FieldRule> {
  const fn: Record<string, FieldRule> = { name: r.text, arguments: args }
  return { index: r.num, id: r.text, type: r.text, function: (f) => isObj(f) ? reshape(f, fn, mask) : f }
}

/** A list of tool calls (absent or null kept), each rebuilt by `one` with its position. */
function toolCallList (v: unknown, one: (tc: Obj, k: number) => Obj): unknown {
  if (v === undefined || v === null) return v
  return toolCalls({ tool_calls: v }).map(one)
}

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
  const r = fieldRules(mask)
  const textAt = (idx: number, f: string): FieldRule => (v) => isText(v, f) ? stream(idx, f).push(v) : v
  const maskChoice = (c: Obj, position: number): Obj => {
    const idx = indexOf(c, position)
    const rules: Record<string, FieldRule> = { index: r.num, finish_reason: r.text, logprobs: r.drop }
    if (kind === 'openai-completion') {
      Object.assign(rules, { text: textAt(idx, 'text'), delta: r.refuse('delta'), message: r.refuse('message') })
    } else {
      const call = (tc: Obj, k: number): Obj => reshape(tc, toolCallRules(r, mask, (a) => typeof a === 'string'
        ? stream(idx, TOOL + String(indexOf(tc, k))).push(a)
        : maskArguments(a, mask)), mask)
      const delta: Record<string, FieldRule> = {
        role: r.text, ...Object.fromEntries(DELTA_FIELDS.map((f) => [f, textAt(idx, f)])), tool_calls: (v) => toolCallList(v, call)
      }
      Object.assign(rules, {
        delta: (d: unknown) => objectAt({ delta: d }, 'delta') === null ? d : reshape(d as Obj, delta, mask),
        message: r.refuse('message'),
        text: r.refuse('text')
      })
    }
    const out = reshape(c, rules, mask)
    if (out.finish_reason !== null && out.finish_reason !== undefined) {
      const rest = flushChoice(idx)
      if (rest.size > 0) place(out, rest)
    }
    return out
  }
  const rules = replyRules(r, maskChoice)
  return {
    next (obj) {
      const error = errorOnly(obj, mask)
      if (error !== null) return [...syntheticChunks(), error]
      const out = reshape(obj, rules, mask)
      for (const k of ['id', 'object', 'created', 'model', 'system_fingerprint']) if (k in out) head[k] = out[k]
      return [out]
    },
    end: syntheticChunks
  }
}

/** message.content of a non-streamed reply: text, null, or a list of text parts (each masked) */
function maskContent (c: unknown, mask: MaskFn): unknown {
  if (!Array.isArray(c)) return isText(c, 'content') ? mask(c) : c
  return c.map((part) => {
    if (!isObj(part) || typeof part.text !== 'string') throw new BadReply('content part is not text')
    return maskStrings(part, mask)
  })
}

export function maskOpenAiDocument (kind: Kind, obj: Obj, mask: MaskFn): Obj {
  const error = errorOnly(obj, mask)
  if (error !== null) return error
  const r = fieldRules(mask)
  const whole = (f: string): FieldRule => (v) => isText(v, f) ? mask(v) : v
  const choice = (c: Obj): Obj => {
    const rules: Record<string, FieldRule> = { index: r.num, finish_reason: r.text, logprobs: r.drop }
    if (kind === 'openai-completion') {
      Object.assign(rules, { text: whole('text'), delta: r.refuse('delta'), message: r.refuse('message') })
    } else {
      const call = (tc: Obj): Obj => reshape(tc, toolCallRules(r, mask, (a) => maskArguments(a, mask)), mask)
      const message: Record<string, FieldRule> = {
        role: r.text,
        ...Object.fromEntries(DELTA_FIELDS.map((f) => [f, whole(f)])),
        content: (v) => maskContent(v, mask),
        tool_calls: (v) => toolCallList(v, call)
      }
      Object.assign(rules, {
        message: (m: unknown) => objectAt({ message: m }, 'message') === null ? m : reshape(m as Obj, message, mask),
        delta: r.refuse('delta'),
        text: r.refuse('text')
      })
    }
    return reshape(c, rules, mask)
  }
  return reshape(obj, replyRules(r, choice), mask)
}
