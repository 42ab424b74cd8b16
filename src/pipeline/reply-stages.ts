// What happens to Ollama's reply on its way back: list filtering, masking or the usage observer,
// the request's audit event (flushed before the last byte when fail-closed), time to first token,
// upstream errors, and clients that hang up. The proxy (proxy/forward.ts) calls these hooks.
import type { FastifyRequest } from 'fastify'
import type { GatehouseConfig } from '../config/schema.js'
import type { AuditInput, AuditLog } from '../audit/index.js'
import type { MaskingEngine } from '../masking/index.js'
import type { Policy } from '../rbac/policy.js'
import type { SeesRawOutput } from '../rbac/raw-output.js'
import type { ReplyStages } from '../proxy/forward.js'
import { createReplyObserver, extractUsage, observeDocument, recordUsage, TEXT_OR_USAGE_KINDS } from '../ollama/usage.js'
import { createUsageChunkRemover } from '../ollama/stream-usage.js'
import { chainStages } from '../ollama/reply-stage.js'
import { filterOpenAiModels, filterTags } from '../rbac/list-filter.js'
import { requestAuditInput } from './request-audit.js'
import { closeIfBodyUnread } from './body-guard.js'

/** What the reply stages report to metrics (ops/metrics.ts implements it). */
export interface ReplyMetrics {
  observeTtft: (route: string, model: string | null, seconds: number) => void
  upstreamError: (kind: string, upstream?: string | null) => void
  /** a model Ollama has shown it has (it may become a metrics label) */
  learnModel: (model: string) => void
}

export interface ReplyStageDeps {
  config: GatehouseConfig
  policy: Policy
  masking: MaskingEngine | null
  audit: AuditLog
  emit: (e: AuditInput) => number
  metrics: ReplyMetrics
  /** whether a caller with these roles sees replies unmasked */
  seesRawOutput: SeesRawOutput
}

export function createReplyStages ({ config, policy, masking, audit, emit, metrics, seesRawOutput }: ReplyStageDeps): ReplyStages {
  // a reply is masked when masking is on and the caller is not exempt
  const masksReply = (request: FastifyRequest): boolean => masking !== null && !seesRawOutput(request.gh.identity?.roles ?? [])
  // a streamed reply has sent its status already; a whole one that cannot be audited becomes a 503
  const streamed = new WeakSet<FastifyRequest>()
  return {
    holdClosingFrame: config.audit.failClosed,
    beforeHead: closeIfBodyUnread,
    stream (request, route, framing) {
      streamed.add(request)
      const obs = { masked: request.gh.masked, usage: request.gh.usage }
      // the usage chunk Gatehouse asked for is counted here and never reaches the client
      const remover = request.gh.usageAdded === true && framing === 'sse'
        ? [createUsageChunkRemover((data) => { recordUsage(obs.usage, extractUsage(route.reply, JSON.parse(data))) })]
        : []
      return chainStages([...remover, masksReply(request) ? (masking as MaskingEngine).replyStage(route.reply, framing, obs)
        : createReplyObserver(route.reply, framing, obs)])
    },
    async json (request, route, body, status) {
      const ctx = request.gh
      let out = body
      if (status >= 200 && status < 300) {
        const roles = ctx.identity?.roles ?? []
        const allowed = (m: string) => policy.modelAllowed(roles, m)
        // /api/tags and /api/ps share one shape: {"models":[{"name","model",…}]}; what they list is
        // what Ollama has, so those names may become metric labels
        if (route.reply === 'tags' || route.reply === 'ps') out = filterTags(out, (m) => { metrics.learnModel(m); return allowed(m) })
        else if (route.reply === 'openai-models') out = filterOpenAiModels(out, allowed)
      }
      // replies that carry neither model text nor token counts pass as they are
      if (!TEXT_OR_USAGE_KINDS.has(route.reply)) return out
      const obs = { masked: ctx.masked, usage: ctx.usage }
      // a document the masker cannot read throws errors.UPSTREAM_BAD_REPLY: a 502 in the route's shape
      if (masksReply(request)) return (masking as MaskingEngine).maskDocument(route.reply, out, obs)
      observeDocument(route.reply, out, obs.usage)
      return out
    },
    async beforeEnd (request, status) {
      request.gh.audited = true
      const seq = emit(requestAuditInput(request, status))
      if (!config.audit.failClosed) return
      try {
        await audit.flush()
      } catch (err) {
        // the client gets an error instead of this reply's end: the event must say so, not "200, success"
        const got = streamed.has(request) ? status : (err as { statusCode?: number }).statusCode ?? 503
        const input = requestAuditInput(request, got, 'audit-unavailable')
        // already out in some sink (written, then the sync failed): a second event for the request corrects it
        if (!audit.revise(seq, input)) emit(input)
        throw err
      }
    },
    firstChunk (request) {
      // a model's reply has begun: Ollama has the model (pull/push/create progress streams prove nothing)
      const model = request.gh.models[0]
      if (model !== undefined && request.gh.route?.permission === 'inference') metrics.learnModel(model)
      metrics.observeTtft(request.gh.route?.path ?? 'unknown', model ?? null,
        Number(process.hrtime.bigint() - request.gh.startedAt) / 1e9)
    },
    upstreamFailed (request, kind) { metrics.upstreamError(kind, request.gh.upstream) },
    clientClosed (request, status) {
      // a stream the client abandoned is still a request that happened: audit it as cut short
      if (request.gh.audited) return
      request.gh.audited = true
      request.gh.clientClosed = true
      emit(requestAuditInput(request, status))
    }
  }
}
