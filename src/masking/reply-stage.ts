// Upstream reply bytes in, masked bytes out, for streamed replies (NDJSON lines or SSE events; a
// non-streamed document goes through reply-document.ts): the masking reply stage. Frames the bytes,
// rewrites each parsed frame, and lets out what it can at once: one output per input chunk. Fail
// closed: a frame it cannot parse or read (or one past the size bound) ends the reply with an error
// in the route's shape, and nothing after it is sent; unparsed bytes never pass. SSE comment lines
// are dropped, and only `event:`, `id:` (plain values, masked) and `retry:` lines are kept beside
// `data:`.
import { errors } from '../errors.js'
import { streamErrorChunk } from '../ollama/error-shape.js'
import { createNdjsonSplitter, createSseSplitter, formatSseEvent, isDoneData, type SseEvent } from '../ollama/framing.js'
import { countFrame, extractUsage, recordUsage, type TokenUsage } from '../ollama/usage.js'
import { NO_BYTES, type ReplyStage } from '../ollama/reply-stage.js'
import type { ReplyKind } from '../ollama/routes.js'
import { BadReply, parseObject, type Obj } from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

const SSE_FIELD = /^(event|id|retry): ?(.*)$/
const PLAIN_VALUE = /^[\w.-]*$/
const RETRY_VALUE = /^\d+$/

/**
 * An event's non-data lines to send on: comments dropped; `event:` and `id:` with a plain value kept
 * with the value masked; `retry:` kept while its number is no masked value (else dropped: a token is
 * no number); any other line refused.
 */
function sseFields (other: string[], mask: (t: string) => string): string[] {
  if (other.length === 0) return other
  const kept: string[] = []
  for (const l of other) {
    if (l.startsWith(':')) continue
    const m = SSE_FIELD.exec(l)
    const name = m?.[1]
    const value = m?.[2] ?? ''
    if (name === undefined || !(name === 'retry' ? RETRY_VALUE : PLAIN_VALUE).test(value)) throw new BadReply('unexpected SSE line')
    const masked = mask(value)
    if (name === 'retry' && masked !== value) continue
    kept.push(`${name}: ${masked}`)
  }
  return kept
}

export interface MaskingStageDeps {
  kind: ReplyKind
  framing: 'ndjson' | 'sse'
  usage: TokenUsage
  /** masks a whole text (SSE `event:` and `id:` values) */
  mask: (text: string) => string
  /** a fresh streaming rewriter */
  rewriter: () => ReplyRewriter
}

export function createMaskingStage (deps: MaskingStageDeps): ReplyStage {
  const { kind, framing, usage } = deps
  const see = (obj: Obj): void => {
    countFrame(usage)
    recordUsage(usage, extractUsage(kind, obj))
  }
  let failed = false
  let sawDone = false

  const rewriter = deps.rewriter()
  let out = '' // masked text ready to send for the chunk at hand
  const send = (o: Obj): void => { out += framing === 'ndjson' ? JSON.stringify(o) + '\n' : `data: ${JSON.stringify(o)}\n\n` }

  const line = (text: string): void => {
    // a token line (no usage counts on it) is rewritten without a JSON parse and a re-serialization
    const token = rewriter.tokenLine?.(text) ?? null
    if (token !== null) {
      countFrame(usage)
      out += token + '\n'
      return
    }
    const obj = parseObject(text)
    see(obj)
    for (const o of rewriter.next(obj)) out += JSON.stringify(o) + '\n'
  }
  const event = (ev: SseEvent): void => {
    const other = sseFields(ev.other, deps.mask)
    if (ev.data === null) {
      if (other.length > 0) out += formatSseEvent({ data: null, other }) // no text from the model
      return
    }
    if (sawDone) throw new BadReply('data after [DONE]')
    if (isDoneData(ev.data)) {
      sawDone = true
      for (const o of rewriter.end()) send(o)
      out += formatSseEvent({ data: ev.data, other })
      return
    }
    const obj = parseObject(ev.data)
    see(obj)
    for (const o of rewriter.next(obj)) out += formatSseEvent({ data: JSON.stringify(o), other })
  }

  // the framing's reader: frames a chunk, or what is left at the end of the stream
  const reader = ((): { push: (buf: Buffer) => void, end: () => void } => {
    if (framing === 'ndjson') {
      const split = createNdjsonSplitter()
      return {
        push: (buf) => { for (const l of split.push(buf)) line(l) },
        end: () => { const last = split.end(); if (last !== null) line(last) }
      }
    }
    const split = createSseSplitter()
    return {
      push: (buf) => { for (const ev of split.push(buf)) event(ev) },
      end: () => { const last = split.end(); if (last !== null) event(last) }
    }
  })()

  const failure = (): string => {
    const e = new errors.UPSTREAM_BAD_REPLY()
    return streamErrorChunk(framing, e.message, e.code)
  }

  const bytes = (text: string): Buffer => text === '' ? NO_BYTES : Buffer.from(text, 'utf8')
  return {
    get closed () { return failed },
    push (chunk) {
      if (failed) return NO_BYTES
      out = ''
      try {
        reader.push(chunk)
      } catch {
        failed = true
        // what was already masked from earlier frames of this chunk still goes out, then the error
        return bytes(out + failure())
      }
      return bytes(out)
    },
    end () {
      if (failed) return NO_BYTES
      out = ''
      try {
        reader.end()
        // NDJSON: held text after the last line; SSE: held text of a stream cut before [DONE]
        if (!sawDone) for (const o of rewriter.end()) send(o)
      } catch {
        failed = true
        out += failure()
      }
      return bytes(out)
    }
  }
}
