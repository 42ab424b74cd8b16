// The masking engine the proxy uses (SPEC §6): detectors chosen by config, tokens keyed by a
// deployment secret, whole-text and streaming maskers, reply transforms per route kind (streamed)
// and document masking (not streamed), and request masking for direction: both.
import type { Transform } from 'node:stream'
import { errors } from '../errors.js'
import { createReplyObserver, observeDocument } from '../proxy/usage.js'
import type { ReplyKind } from '../rbac/route-map.js'
import { buildDetectors } from './detectors/index.js'
import type { CustomEntity } from './detectors/custom.js'
import { maskWhole } from './matcher.js'
import { maskNativeDocument, nativeStreamRewriter } from './reply-native.js'
import { maskDocumentBytes } from './reply-document.js'
import { maskOpenAiDocument, openAiStreamRewriter } from './reply-openai.js'
import { createMaskingTransform } from './reply-transform.js'
import { maskRequestBody } from './request.js'
import { createStreamMasker, type StreamMasker } from './stream-masker.js'
import { createTokenizer } from './token.js'

export interface MaskingOptions { entities: string[], custom: CustomEntity[], key: Buffer }
export interface ReplyObservation { masked: Record<string, number>, usage: { input: number | null, output: number | null } }

export interface MaskingEngine {
  maskText(text: string, counts?: Record<string, number>): string
  createStreamMasker(counts: Record<string, number>): { push(chunk: string): string, flush(): string }
  /** whether replies of this kind can be served while masking is on (masked, or known to carry no model text) */
  supports(kind: ReplyKind): boolean
  /** streamed upstream reply bytes in → masked bytes out; fills obs.masked and obs.usage */
  replyTransform(kind: ReplyKind, framing: 'ndjson' | 'sse', obs: ReplyObservation): Transform
  /**
   * a non-streamed reply document, masked (text-free kinds: unchanged); fills obs.masked and
   * obs.usage. Throws errors.UPSTREAM_BAD_REPLY for a document it cannot read, or a kind it does not support.
   */
  maskDocument(kind: ReplyKind, body: Buffer, obs: ReplyObservation): Buffer
  /** direction both: returns a masked copy of a request body object */
  maskRequest(kind: ReplyKind, body: Record<string, unknown>, counts: Record<string, number>): Record<string, unknown>
}

/** Kinds whose replies carry model-written text: rewritten field by field. */
export const MASKED_KINDS: ReadonlySet<ReplyKind> = new Set<ReplyKind>(['generate', 'chat', 'openai-chat', 'openai-completion'])
/**
 * Kinds whose replies carry no model-written text and pass unchanged: embeddings (vectors), model
 * lists and details, pull/push/create progress, version. Anything not in either set is refused.
 */
export const TEXT_FREE_KINDS: ReadonlySet<ReplyKind> = new Set<ReplyKind>(['embed', 'openai-embed', 'tags', 'ps', 'openai-models', 'openai-model', 'progress', 'plain'])

export function createMaskingEngine (opts: MaskingOptions): MaskingEngine {
  const detectors = buildDetectors(opts.entities, opts.custom)
  const tokenize = createTokenizer(opts.key)
  const maskText = (text: string, counts?: Record<string, number>): string => maskWhole(text, detectors, tokenize, counts)
  const newStream = (counts: Record<string, number>): StreamMasker => createStreamMasker(detectors, tokenize, counts)

  return {
    maskText,
    createStreamMasker: newStream,
    supports: (kind) => MASKED_KINDS.has(kind) || TEXT_FREE_KINDS.has(kind),
    replyTransform (kind, framing, obs) {
      if (!MASKED_KINDS.has(kind)) return createReplyObserver(kind, framing, obs)
      const mask = (t: string): string => maskText(t, obs.masked)
      const stream = (): StreamMasker => newStream(obs.masked)
      return createMaskingTransform({
        kind,
        framing,
        usage: obs.usage,
        rewriter: () => kind === 'generate' || kind === 'chat'
          ? nativeStreamRewriter(kind, mask, stream)
          : openAiStreamRewriter(kind as 'openai-chat' | 'openai-completion', mask, stream)
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
        : maskOpenAiDocument(kind as 'openai-chat' | 'openai-completion', obj, mask))
    },
    maskRequest: (kind, body, counts) => maskRequestBody(kind, body, (t) => maskText(t, counts))
  }
}
