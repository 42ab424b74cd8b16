// OpenAI-compatible replies (/v1/chat/completions, /v1/completions). Streamed: SSE chunks, where
// each choice index has its own masked streams (content, reasoning, each tool call's arguments);
// a choice's held text is flushed into the chunk carrying its finish_reason, anything left before
// `data: [DONE]`. Not streamed: one document. `logprobs` is dropped (per-token text).
import type { StreamMasker } from './stream-masker.js'
import { isObj, maskArguments, maskError, maskField, type MaskFn, type Obj } from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

type Kind = 'openai-chat' | 'openai-completion'
const DELTA_FIELDS = ['content', 'reasoning', 'reasoning_content', 'refusal'] as const
const TOOL = 'tool:'

export function openAiStreamRewriter (kind: Kind, mask: MaskFn, newStream: () => StreamMasker): ReplyRewriter {
  // choice index → field ("content", "tool:<index>", …) → stream
  const streams = new Map<number, Map<string, StreamMasker>>()
  const head: Obj = {}
  const stream = (choice: number, field: string): StreamMasker => {
    let m = streams.get(choice)
    if (m === undefined) streams.set(choice, m = new Map())
    let s = m.get(field)
    if (s === undefined) m.set(field, s = newStream())
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
      let tc = calls.find((c): c is Obj => isObj(c) && c.index === ti)
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
    const idx = typeof c.index === 'number' ? c.index : position
    delete c.logprobs
    if (kind === 'openai-completion') {
      if (typeof c.text === 'string') c.text = stream(idx, 'text').push(c.text)
    } else if (isObj(c.delta)) {
      const d = c.delta
      for (const f of DELTA_FIELDS) if (typeof d[f] === 'string') d[f] = stream(idx, f).push(d[f])
      if (Array.isArray(d.tool_calls)) {
        d.tool_calls.forEach((tc, k) => {
          if (!isObj(tc) || !isObj(tc.function)) return
          const ti = typeof tc.index === 'number' ? tc.index : k
          if (typeof tc.function.arguments === 'string') tc.function.arguments = stream(idx, TOOL + String(ti)).push(tc.function.arguments)
          else if ('arguments' in tc.function) tc.function.arguments = maskArguments(tc.function.arguments, mask)
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
      if (maskError(obj, mask)) return [...syntheticChunks(), obj]
      for (const k of ['id', 'object', 'created', 'model', 'system_fingerprint']) if (k in obj) head[k] = obj[k]
      if (Array.isArray(obj.choices)) obj.choices.forEach((c, i) => { if (isObj(c)) maskChoice(c, i) })
      return [obj]
    },
    end: syntheticChunks
  }
}

export function maskOpenAiDocument (kind: Kind, obj: Obj, mask: MaskFn): Obj {
  if (maskError(obj, mask)) return obj
  if (!Array.isArray(obj.choices)) return obj
  for (const c of obj.choices) {
    if (!isObj(c)) continue
    delete c.logprobs
    if (kind === 'openai-completion') {
      maskField(c, 'text', mask)
      continue
    }
    const msg = c.message
    if (!isObj(msg)) continue
    for (const f of DELTA_FIELDS) maskField(msg, f, mask)
    if (Array.isArray(msg.content)) {
      for (const part of msg.content) if (isObj(part)) maskField(part, 'text', mask)
    }
    if (Array.isArray(msg.tool_calls)) {
      for (const tc of msg.tool_calls) {
        if (isObj(tc) && isObj(tc.function) && 'arguments' in tc.function) tc.function.arguments = maskArguments(tc.function.arguments, mask)
      }
    }
  }
  return obj
}
