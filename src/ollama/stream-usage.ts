// Streamed OpenAI-compatible replies carry token counts only when the request says
// `stream_options: {"include_usage": true}`; Ollama then sends one extra chunk with `choices: []`
// and `usage` before `data: [DONE]`. Gatehouse asks for it on every streamed /v1 chat or completion
// request, and removes that chunk again when the client did not ask for it, so the client sees
// exactly what Ollama would have sent it.
import { goKeyMatches, scanBody, type JsonMember } from './go-json.js'
import { isObj } from './json-object.js'
import { DEFAULT_MAX_FRAME_BYTES } from './framing.js'
import { NO_BYTES, type ReplyStage } from './reply-stage.js'

const STREAM_OPTIONS = 'stream_options'
const INCLUDE_USAGE = 'include_usage'
export const ADDED_STREAM_OPTIONS = '"stream_options":{"include_usage":true}'

/**
 * What Ollama's decoder (Go encoding/json into `*StreamOptions{IncludeUsage bool}`) makes of the
 * body's `stream_options` members: `true` when it will send the usage chunk, `false` when not,
 * `'invalid'` when a value is of a kind it refuses (the body is then left alone).
 */
export function clientIncludesUsage (body: Buffer, members: readonly JsonMember[]): boolean | 'invalid' {
  // a nil pointer until an object is decoded; null sets it back to nil; later objects decode into it
  let current: boolean | null = null
  for (const m of members) {
    if (!goKeyMatches(m.key, STREAM_OPTIONS)) continue
    if (m.kind === 'null') { current = null; continue }
    if (m.kind !== 'object') return 'invalid'
    current ??= false
    const inner = scanBody(body.subarray(m.valueStart, m.valueEnd))
    if (!inner.ok || inner.kind !== 'object') return 'invalid'
    for (const f of inner.members) {
      if (!goKeyMatches(f.key, INCLUDE_USAGE) || f.kind === 'null') continue
      if (f.kind !== 'true' && f.kind !== 'false') return 'invalid'
      current = f.kind === 'true'
    }
  }
  return current === true
}

/** Whether a member is one Go decodes into `stream_options` (dropped when Gatehouse sets its own). */
export const isStreamOptions = (m: JsonMember): boolean => goKeyMatches(m.key, STREAM_OPTIONS)

/** The usage-only chunk Ollama adds for include_usage: `choices` empty and `usage` present. */
export function isUsageOnlyChunk (data: string): boolean {
  if (!data.includes('"usage"')) return false
  try {
    const obj: unknown = JSON.parse(data)
    return isObj(obj) && Array.isArray(obj.choices) && obj.choices.length === 0 && isObj(obj.usage)
  } catch {
    return false
  }
}

const EVENT_ENDS = [Buffer.from('\r\n\r\n'), Buffer.from('\n\n'), Buffer.from('\r\r')]

/** The end (exclusive) of the first complete event in `b`, or -1. */
function firstEventEnd (b: Buffer): number {
  let best = -1
  for (const sep of EVENT_ENDS) {
    const i = b.indexOf(sep)
    if (i >= 0 && (best < 0 || i + sep.length < best)) best = i + sep.length
  }
  return best
}

/** The `data:` payload of one SSE event (lines joined by "\n"), or null when it has none. */
function eventData (event: Buffer): string | null {
  const lines = event.toString('utf8').split(/\r\n|\n|\r/).filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
  return lines.length === 0 ? null : lines.join('\n')
}

/**
 * Passes an SSE stream through byte for byte except the usage-only events, which go to `seen`
 * (the counts are recorded) and not to the client. Holds back at most one incomplete event.
 */
export function createUsageChunkRemover (seen: (data: string) => void): ReplyStage {
  let pending: Buffer = NO_BYTES
  let passThrough = false
  return {
    closed: false,
    push (chunk) {
      if (passThrough) return chunk
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      // an event longer than any Ollama writes: stop looking and hold nothing back
      if (pending.length > DEFAULT_MAX_FRAME_BYTES) {
        passThrough = true
        const all = pending
        pending = NO_BYTES
        return all
      }
      const out: Buffer[] = []
      for (let end = firstEventEnd(pending); end >= 0; end = firstEventEnd(pending)) {
        const event = pending.subarray(0, end)
        pending = pending.subarray(end)
        const data = eventData(event)
        if (data !== null && isUsageOnlyChunk(data)) seen(data)
        else out.push(event)
      }
      // what waits for the rest of its event is copied, so the caller's chunk is not kept alive
      if (pending.length > 0 && pending.buffer === chunk.buffer) pending = Buffer.from(pending)
      return out.length === 0 ? NO_BYTES : out.length === 1 ? out[0] as Buffer : Buffer.concat(out)
    },
    end () {
      const rest = pending
      pending = NO_BYTES
      const data = rest.length > 0 ? eventData(rest) : null
      if (data !== null && isUsageOnlyChunk(data)) { seen(data); return NO_BYTES }
      return rest
    }
  }
}
