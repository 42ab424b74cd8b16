// The masking engine the proxy uses: detectors chosen by config (reading the normalized view of
// normalize.ts), tokens keyed by a deployment secret, whole-text and streaming maskers, reply
// stages per route kind (streamed) and document masking (not streamed), and request masking
// for direction: both.
import { errors } from '../errors.js'
import { createReplyObserver, observeDocument, type TokenUsage } from '../ollama/usage.js'
import type { ReplyStage } from '../ollama/reply-stage.js'
import type { ReplyKind } from '../ollama/routes.js'
import { buildDetectors } from './detectors/index.js'
import type { CustomEntity } from './detectors/custom.js'
import { maskWhole } from './matcher.js'
import { createNormalizer } from './normalize.js'
import { maskNativeDocument, nativeStreamRewriter } from './reply-native.js'
import { maskDocumentBytes } from './reply-document.js'
import { maskOpenAiDocument, openAiStreamRewriter } from './reply-openai.js'
import { maskOtherDocument, otherStreamRewriter, type OtherKind } from './reply-other.js'
import { createMaskingStage } from './reply-stage.js'
import { maskRequestBytes } from './request.js'
import { createStreamMasker, type StreamMasker } from './stream-masker.js'
import { createTokenizer } from './token.js'

export interface MaskingOptions { entities: string[], custom: CustomEntity[], key: Buffer }
export interface ReplyObservation { masked: Record<string, number>, usage: TokenUsage }

export interface MaskingEngine {
  maskText(text: string, counts?: Record<string, number>): string
  createStreamMasker(counts: Record<string, number>): { push(chunk: string): string, flush(): string }
  /**
   * streamed upstream reply bytes in → masked bytes out; fills obs.masked and obs.usage. Throws
   * errors.UPSTREAM_BAD_REPLY for a kind it has not classified.
   */
  replyStage(kind: ReplyKind, framing: 'ndjson' | 'sse', obs: ReplyObservation): ReplyStage
  /**
   * a non-streamed reply document, masked (text-free kinds: unchanged); fills obs.masked and
   * obs.usage. Throws errors.UPSTREAM_BAD_REPLY for a document it cannot read, or a kind it does not support.
   */
  maskDocument(kind: ReplyKind, body: Buffer, obs: ReplyObservation): Buffer
  /** direction both: the checked request body with its prompt text masked, every other byte kept */
  maskRequest(kind: ReplyKind, body: Buffer, counts: Record<string, number>): Buffer
}

/**
 * Every reply kind, classified: text to mask (rewritten field by field: generations, embeddings,
 * model details) or none (model lists, pull/push/create progress, version: passed unchanged). A
 * Record, so a new ReplyKind does not compile until it is classified here; at run time any
 * other kind is refused, as is any reply shape the masker cannot read.
 */
const REPLY_TEXT: Record<ReplyKind, 'masked' | 'text-free'> = {
  generate: 'masked', chat: 'masked', 'openai-chat': 'masked', 'openai-completion': 'masked',
  embed: 'masked', 'openai-embed': 'masked', show: 'masked', tags: 'text-free', ps: 'text-free',
  'openai-models': 'text-free', 'openai-model': 'text-free', progress: 'text-free', plain: 'text-free'
}
const kindsOf = (c: 'masked' | 'text-free') => new Set((Object.keys(REPLY_TEXT) as ReplyKind[]).filter((k) => REPLY_TEXT[k] === c))
export const MASKED_KINDS: ReadonlySet<ReplyKind> = kindsOf('masked')
export const TEXT_FREE_KINDS: ReadonlySet<ReplyKind> = kindsOf('text-free')

export function createMaskingEngine (opts: MaskingOptions): MaskingEngine {
  const detectors = buildDetectors(opts.entities, opts.custom)
  const tokenize = createTokenizer(opts.key)
  const norm = createNormalizer()
  const maskText = (text: string, counts?: Record<string, number>): string => maskWhole(text, detectors, tokenize, norm, counts)
  const newStream = (counts: Record<string, number>): StreamMasker => createStreamMasker(detectors, tokenize, counts, norm)

  return {
    maskText,
    createStreamMasker: newStream,
    replyStage (kind, framing, obs) {
      if (TEXT_FREE_KINDS.has(kind)) return createReplyObserver(kind, framing, obs)
      if (!MASKED_KINDS.has(kind)) throw new errors.UPSTREAM_BAD_REPLY()
      const mask = (t: string): string => maskText(t, obs.masked)
      const stream = (): StreamMasker => newStream(obs.masked)
      return createMaskingStage({
        kind,
        framing,
        usage: obs.usage,
        mask,
        rewriter: () => kind === 'generate' || kind === 'chat'
          ? nativeStreamRewriter(kind, mask, stream)
          : kind === 'openai-chat' || kind === 'openai-completion'
            ? openAiStreamRewriter(kind, mask, stream)
            : otherStreamRewriter(kind as OtherKind, mask)
      })
    },
    maskDocument (kind, body, obs) {
      if (TEXT_FREE_KINDS.has(kind)) {
        observeDocument(kind, body, obs.usage)
        return body
      }
      if (!MASKED_KINDS.has(kind)) throw new errors.UPSTREAM_BAD_REPLY()
      const mask = (t: string): string => maskText(t, obs.masked)
      return maskDocumentBytes(kind, body, obs.usage, (obj) => kind === 'generate' || kind === 'chat'
        ? maskNativeDocument(kind, obj, mask)
        : kind === 'openai-chat' || kind === 'openai-completion'
          ? maskOpenAiDocument(kind, obj, mask)
          : maskOtherDocument(kind as OtherKind, obj, mask))
    },
    maskRequest: (kind, body, counts) => maskRequestBytes(kind, body, (t) => maskText(t, counts))
  }
}
