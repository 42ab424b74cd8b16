// Token usage for the audit event (gen_ai.usage.*), read from Ollama's closing line
// (prompt_eval_count / eval_count) or an OpenAI `usage` block (prompt_tokens / completion_tokens).
// Independent of masking: the pass-through observer below serves unmasked streams, and
// observeDocument unmasked (or text-free) non-streamed replies.
import { isObj } from './json-object.js'
import type { ReplyKind } from './routes.js'
import { createNdjsonSplitter, createSseSplitter, DEFAULT_MAX_FRAME_BYTES, isDoneData } from './framing.js'
import { NO_BYTES, type ReplyStage } from './reply-stage.js'

export interface TokenUsage {
  input: number | null
  output: number | null
  /**
   * Content frames of a stream seen so far. Ollama streams one token a frame, so this is what a
   * stream cut short before its closing line (no counts) has generated; it is metered instead of 0.
   */
  frames?: number
}

/** One more streamed content frame (not the SSE `[DONE]` marker). */
export function countFrame (usage: TokenUsage): void {
  usage.frames = (usage.frames ?? 0) + 1
}

/** Reply kinds that carry text to mask or token counts: the ones worth framing and reading. */
export const TEXT_OR_USAGE_KINDS: ReadonlySet<ReplyKind> = new Set<ReplyKind>(['generate', 'chat', 'embed', 'openai-chat',
  'openai-completion', 'openai-embed', 'show'])

const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null

/** Usage carried by one reply object (a line, an event's data, or a whole JSON reply); null when it carries none. */
export function extractUsage (kind: ReplyKind, obj: unknown): TokenUsage | null {
  if (!isObj(obj)) return null
  if (kind === 'openai-chat' || kind === 'openai-completion' || kind === 'openai-embed') {
    const u = obj.usage
    if (!isObj(u)) return null
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

/**
 * Records the usage in one reply frame's text, if any. Only the closing line or a usage block carries
 * counts (both name a counter: `eval_count`, `prompt_eval_count`, `"usage"`), so other frames are not parsed.
 */
function recordFrom (kind: ReplyKind, usage: TokenUsage, text: string | null): void {
  if (text === null || isDoneData(text)) return
  if (!text.includes('eval_count') && !text.includes('"usage"')) return
  try {
    recordUsage(usage, extractUsage(kind, JSON.parse(text)))
  } catch { /* not JSON: nothing to record */ }
}

/** Records the usage of a whole non-streamed reply (up to the frame bound); a body it cannot read is ignored. */
export function observeDocument (kind: ReplyKind, body: Buffer, usage: TokenUsage): void {
  if (!TEXT_OR_USAGE_KINDS.has(kind) || body.length > DEFAULT_MAX_FRAME_BYTES) return
  recordFrom(kind, usage, body.toString('utf8'))
}

/**
 * The reply stage when nothing is masked: lets every chunk out unchanged and at once, framing it on
 * the side to record usage into `obs.usage`. It never alters, delays or fails the stream: a copy it cannot read is ignored.
 */
export function createReplyObserver (kind: ReplyKind, framing: 'ndjson' | 'sse', obs: { usage: TokenUsage }): ReplyStage {
  let observing = TEXT_OR_USAGE_KINDS.has(kind)
  const see = (text: string | null): void => {
    if (text !== null && text !== '[DONE]') countFrame(obs.usage)
    recordFrom(kind, obs.usage, text)
  }
  const ndjson = framing === 'ndjson' ? createNdjsonSplitter() : null
  const sse = framing === 'sse' ? createSseSplitter() : null

  const observe = (chunk: Buffer): void => {
    if (!observing) return
    try {
      if (ndjson !== null) for (const line of ndjson.push(chunk)) see(line)
      else if (sse !== null) for (const ev of sse.push(chunk)) see(ev.data)
    } catch {
      observing = false // e.g. an overlong frame: stop looking, keep forwarding
    }
  }

  return {
    closed: false,
    push (chunk) {
      observe(chunk)
      return chunk
    },
    end () {
      if (observing) {
        try {
          if (ndjson !== null) see(ndjson.end())
          else if (sse !== null) see(sse.end()?.data ?? null)
        } catch { /* ignore */ }
      }
      return NO_BYTES
    }
  }
}
