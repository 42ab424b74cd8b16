// Token usage for the audit event (gen_ai.usage.*), read from Ollama's closing line
// (prompt_eval_count / eval_count) or an OpenAI `usage` block (prompt_tokens / completion_tokens).
// Independent of masking: the pass-through observer below serves unmasked replies.
import { Transform } from 'node:stream'
import type { ReplyKind } from '../rbac/route-map.js'
import { createNdjsonSplitter, createSseSplitter, DEFAULT_MAX_FRAME_BYTES } from './framing.js'

export interface TokenUsage { input: number | null, output: number | null }
export type ReplyFraming = 'ndjson' | 'sse' | 'json'

const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Usage carried by one reply object (a line, an event's data, or a whole JSON reply); null when it carries none. */
export function extractUsage (kind: ReplyKind, obj: unknown): TokenUsage | null {
  if (!isObject(obj)) return null
  if (kind === 'openai-chat' || kind === 'openai-completion' || kind === 'openai-embed') {
    const u = obj.usage
    if (!isObject(u)) return null
    const input = count(u.prompt_tokens)
    const output = kind === 'openai-embed' ? null : count(u.completion_tokens)
    return input === null && output === null ? null : { input, output }
  }
  if (kind === 'generate' || kind === 'chat' || kind === 'embed') {
    // streamed replies count only on the closing line; /api/embed has no `done` but has the counts
    if (obj.done === false) return null
    const input = count(obj.prompt_eval_count)
    const output = count(obj.eval_count)
    return input === null && output === null ? null : { input, output }
  }
  return null
}

/** Copies the fields found into `target`, leaving fields the reply did not carry as they were. */
export function recordUsage (target: TokenUsage, found: TokenUsage | null): void {
  if (found === null) return
  if (found.input !== null) target.input = found.input
  if (found.output !== null) target.output = found.output
}

export interface UsageObservation { usage: TokenUsage }

/**
 * Forwards every chunk unchanged and at once, framing a copy on the side to record usage into
 * `obs.usage`. It never alters, delays or fails the stream: a copy it cannot read is ignored.
 * `json` replies are observed up to `maxJsonBytes` (an oversized document is not parsed).
 */
export function createReplyObserver (
  kind: ReplyKind, framing: ReplyFraming, obs: UsageObservation, maxJsonBytes = DEFAULT_MAX_FRAME_BYTES
): Transform {
  const interesting = kind === 'generate' || kind === 'chat' || kind === 'embed' ||
    kind === 'openai-chat' || kind === 'openai-completion' || kind === 'openai-embed'
  let observing = interesting
  const see = (text: string | null): void => {
    if (text === null || text === '[DONE]') return
    try {
      recordUsage(obs.usage, extractUsage(kind, JSON.parse(text)))
    } catch { /* not JSON: nothing to record */ }
  }
  const ndjson = framing === 'ndjson' ? createNdjsonSplitter() : null
  const sse = framing === 'sse' ? createSseSplitter() : null
  const jsonParts: Buffer[] = []
  let jsonBytes = 0

  const observe = (chunk: Buffer): void => {
    if (!observing) return
    try {
      if (ndjson !== null) for (const line of ndjson.push(chunk)) see(line)
      else if (sse !== null) for (const ev of sse.push(chunk)) see(ev.data)
      else {
        jsonBytes += chunk.length
        if (jsonBytes > maxJsonBytes) {
          observing = false
          jsonParts.length = 0
        } else jsonParts.push(Buffer.from(chunk))
      }
    } catch {
      observing = false // e.g. an overlong frame: stop looking, keep forwarding
    }
  }

  return new Transform({
    transform (chunk: Buffer | string, _enc, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      done(null, buf)
      observe(buf)
    },
    flush (done) {
      if (observing) {
        try {
          if (ndjson !== null) see(ndjson.end())
          else if (sse !== null) see(sse.end()?.data ?? null)
          else see(Buffer.concat(jsonParts).toString('utf8'))
        } catch { /* ignore */ }
      }
      done()
    }
  })
}
