// Upstream reply bytes in, masked bytes out. Frames the bytes (NDJSON lines, SSE events, or one JSON
// document), rewrites each parsed frame, and sends what it can at once: one output write per input
// chunk. Fail closed: a frame it cannot parse (or one past the size bound) ends the reply with an
// error in the route's shape, and nothing after it is sent; unparsed bytes never pass.
import { Transform } from 'node:stream'
import { errorBody, streamErrorChunk } from '../proxy/error-shape.js'
import { createNdjsonSplitter, createSseSplitter, DEFAULT_MAX_FRAME_BYTES, formatSseEvent, type SseEvent } from '../proxy/framing.js'
import { extractUsage, recordUsage, type ReplyFraming, type TokenUsage } from '../proxy/usage.js'
import type { ReplyKind } from '../rbac/route-map.js'
import { isObj, type Obj } from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

export const BAD_REPLY_MESSAGE = 'upstream reply could not be processed'
export const BAD_REPLY_CODE = 'GH_ERR_UPSTREAM_BAD_REPLY'

class BadReply extends Error {}

function parseObject (text: string): Obj {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new BadReply('not JSON')
  }
  if (!isObj(v)) throw new BadReply('not a JSON object')
  return v
}

export interface MaskingTransformDeps {
  kind: ReplyKind
  framing: ReplyFraming
  usage: TokenUsage
  /** a fresh streaming rewriter (NDJSON / SSE) */
  rewriter: () => ReplyRewriter
  /** masks a whole non-streamed document in place */
  document: (obj: Obj) => Obj
  maxFrameBytes?: number
}

export function createMaskingTransform (deps: MaskingTransformDeps): Transform {
  const { kind, framing, usage } = deps
  const max = deps.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const family = kind.startsWith('openai') ? 'openai' : 'native'
  const see = (obj: Obj): void => recordUsage(usage, extractUsage(kind, obj))
  let failed = false
  let sawDone = false

  const rewriter = framing === 'json' ? null : deps.rewriter()
  const ndjson = framing === 'ndjson' ? createNdjsonSplitter(max) : null
  const sse = framing === 'sse' ? createSseSplitter(max) : null
  const jsonParts: Buffer[] = []
  let jsonBytes = 0

  const line = (text: string): string => {
    const obj = parseObject(text)
    see(obj)
    let s = ''
    for (const o of (rewriter as ReplyRewriter).next(obj)) s += JSON.stringify(o) + '\n'
    return s
  }
  const event = (ev: SseEvent): string => {
    if (ev.data === null) return formatSseEvent(ev) // comments, retry: no text from the model
    if (sawDone) throw new BadReply('data after [DONE]')
    if (ev.data.trim() === '[DONE]') {
      sawDone = true
      let s = ''
      for (const o of (rewriter as ReplyRewriter).end()) s += `data: ${JSON.stringify(o)}\n\n`
      return s + formatSseEvent(ev)
    }
    const obj = parseObject(ev.data)
    see(obj)
    let s = ''
    for (const o of (rewriter as ReplyRewriter).next(obj)) s += formatSseEvent({ data: JSON.stringify(o), other: ev.other })
    return s
  }
  const failure = (): string => framing === 'json'
    ? JSON.stringify(errorBody(family, 502, BAD_REPLY_MESSAGE, BAD_REPLY_CODE))
    : streamErrorChunk(framing, BAD_REPLY_MESSAGE, BAD_REPLY_CODE)

  const t: Transform = new Transform({
    transform (chunk: Buffer | string, _enc, done) {
      if (failed) return done()
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      let out = ''
      try {
        if (ndjson !== null) for (const l of ndjson.push(buf)) out += line(l)
        else if (sse !== null) for (const ev of sse.push(buf)) out += event(ev)
        else {
          jsonBytes += buf.length
          if (jsonBytes > max) throw new BadReply('document too large')
          jsonParts.push(Buffer.from(buf))
        }
      } catch {
        failed = true
        // what was already masked from earlier frames of this chunk still goes out, then the error
        t.push(out + failure())
        t.push(null)
        return done()
      }
      if (out !== '') t.push(out)
      done()
    },
    flush (done) {
      if (failed) return done()
      let out = ''
      try {
        if (ndjson !== null) {
          const last = ndjson.end()
          if (last !== null) out += line(last)
          for (const o of (rewriter as ReplyRewriter).end()) out += JSON.stringify(o) + '\n'
        } else if (sse !== null) {
          const last = sse.end()
          if (last !== null) out += event(last)
          if (!sawDone) for (const o of (rewriter as ReplyRewriter).end()) out += `data: ${JSON.stringify(o)}\n\n`
        } else {
          const obj = parseObject(Buffer.concat(jsonParts).toString('utf8'))
          see(obj)
          out += JSON.stringify(deps.document(obj))
        }
      } catch {
        out += failure()
      }
      if (out !== '') t.push(out)
      done()
    }
  })
  return t
}
