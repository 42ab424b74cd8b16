// Forwards one checked request to Ollama and streams the reply back. Streams (NDJSON, SSE) are
// passed on chunk by chunk through the reply stages (masking or a usage observer) with no
// buffering; single JSON replies are read whole (they are whole upstream too) so list filtering
// and masking see complete documents and a failure can still become a clean 502/504.
import type { ServerResponse } from 'node:http'
import {
  clientGone, framingOf, MAX_JSON_REPLY_BYTES, sendProxied, sendUpstream, type ReplyStages, type StreamedReply
} from './stages.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { HostLease, LeaseOutcome, UpstreamTargets } from './target.js'
import { createFanOut } from './fan-out.js'
import { createListUnion } from './list-union.js'
import { errors } from '../errors.js'
import { isUpstreamTimeout, upstreamError } from './upstream.js'
import { readAll, type UpstreamBody } from './upstream-call.js'
import { clientReplyHeaders } from './headers.js'
import { streamErrorChunk } from '../ollama/error-shape.js'
import { createClosingFrameHolder } from '../ollama/closing-frame.js'
import type { ReplyStage } from '../ollama/reply-stage.js'
import type { ProxiedRoute, ReplyKind } from '../ollama/routes.js'

export type { Framing, ReplyStages } from './stages.js'
export { framingOf } from './stages.js'

const LIST_REPLIES: ReadonlySet<ReplyKind> = new Set<ReplyKind>(['tags', 'ps', 'openai-models', 'openai-model'])

const reasonOf = (err: unknown): string => {
  const code = (err as { code?: string } | null)?.code
  return isUpstreamTimeout(err) ? `timeout (${code ?? 'timeout'})` : `unavailable (${code ?? (err as Error).message})`
}

export function createForwarder (targets: UpstreamTargets, stages: ReplyStages) {
  const fanOut = createFanOut(stages)
  const lists = createListUnion(stages)
  return async function forward (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ctx = request.gh
    const route = ctx.route as ProxiedRoute
    // only the body the policy checked and re-serialized is ever forwarded; without one, nothing is
    if (route.body !== 'none' && ctx.forwardBody === null) throw new Error(`${route.id}: no checked body (policy guard missing)`)
    const body = route.body === 'none' ? null : ctx.forwardBody
    const abort = new AbortController()
    // a client that hangs up stops the generation upstream
    reply.raw.once('close', () => { if (!reply.raw.writableFinished) abort.abort() })

    const listed = await targets.listHosts(request)
    if (listed !== null) return lists(request, reply, listed, abort)
    const spread = await targets.fanOutHosts(request)
    if (spread !== null) return fanOut(request, reply, spread, body, abort)

    let lease = await targets.first(request, reply, abort.signal)
    if (lease === null || abort.signal.aborted) {
      lease?.release('neutral')
      return clientGone(request, reply, stages)
    }
    const tried = new Set([lease.name])
    ctx.upstream = lease.name
    ctx.attempts = 1
    // how the request counts for the host that answered: set as the reply goes, read once it is over
    const result: { outcome: LeaseOutcome, reason?: string } = { outcome: 'success' }
    reply.raw.once('close', () => {
      if (abort.signal.aborted && result.outcome === 'success') result.outcome = 'neutral'
      ;(lease as HostLease).release(result.outcome, result.reason)
    })
    const another = async (failed: HostLease, reason: string): Promise<HostLease | null> => {
      failed.release('failure', reason)
      const next = tried.size < 2 ? await targets.retry(request, tried, abort.signal) : null
      if (next === null) return null
      tried.add(next.name)
      ctx.upstream = next.name
      ctx.attempts = tried.size
      return next
    }

    // model lists are always read whole, whatever they are labelled, so the policy filter cannot be
    // skipped by a reply that calls itself a stream
    const framingFor = (r: { headers: Record<string, string | string[] | undefined> }) =>
      route.method === 'HEAD' || LIST_REPLIES.has(route.reply) ? 'json' : framingOf(r.headers['content-type'])
    let res
    let raw: Buffer | null = null
    for (;;) {
      try {
        res = await sendUpstream(lease.upstream, route, request, body, abort.signal)
      } catch (err) {
        if (abort.signal.aborted) { result.outcome = 'neutral'; return clientGone(request, reply, stages) }
        stages.upstreamFailed?.(request, isUpstreamTimeout(err) ? 'timeout' : 'unavailable')
        // nothing has reached the client yet: another host that has the model gets one more try
        const next = await another(lease, reasonOf(err))
        if (next !== null) { lease = next; continue }
        result.outcome = 'neutral' // already counted as a failure above
        throw upstreamError(err)
      }
      if (res.statusCode >= 500 && tried.size < 2) {
        const failed: HostLease = lease
        const answer = res.body
        // the refused reply's body stays unread while another host is sought; if that fails, it goes
        const next: HostLease | null = await another(failed, `answered ${res.statusCode}`)
          .catch((err: unknown) => { answer.destroy(); throw err })
        if (next !== null) { await answer.dump().catch(() => {}); lease = next; continue }
        result.outcome = 'neutral' // counted by another()
      } else if (res.statusCode >= 500) {
        result.outcome = 'failure'
        result.reason = `answered ${res.statusCode}`
      }
      if (framingFor(res) === 'json') {
        // a whole reply is read before anything is sent, so one cut short can still be retried
        try {
          raw = route.method === 'HEAD' ? (await res.body.dump(), Buffer.alloc(0)) : await readAll(res.body, MAX_JSON_REPLY_BYTES)
        } catch (err) {
          if (abort.signal.aborted) { result.outcome = 'neutral'; return clientGone(request, reply, stages) }
          stages.upstreamFailed?.(request, 'mid-stream')
          if (err instanceof errors.UPSTREAM_TOO_LARGE) {
            result.outcome = 'failure'
            result.reason = 'reply too large'
            throw err
          }
          const next = await another(lease, 'reply cut short')
          if (next !== null) { lease = next; continue }
          result.outcome = 'neutral' // counted by another()
          throw upstreamError(err)
        }
      }
      break
    }
    if (res.statusCode === 404 && ctx.models.length > 0) targets.modelMissing(request, lease.name)

    const framing = framingFor(res)
    const rewritten = route.method !== 'HEAD'
    reply.code(res.statusCode)
    reply.headers(clientReplyHeaders(res.headers, rewritten))

    if (framing === 'json') {
      const whole = raw ?? Buffer.alloc(0)
      const out = route.method === 'HEAD' ? whole : await stages.json(request, route, whole, res.statusCode)
      await stages.beforeEnd(request, res.statusCode)
      return route.method === 'HEAD' ? reply.send(out) : sendProxied(request, reply, stages, res.statusCode, out)
    }

    const status = res.statusCode
    const answer = res.body
    let stage: ReplyStage
    try {
      stage = stages.stream(request, route, framing)
    } catch (err) {
      // refused before a byte was sent (a reply kind the stages cannot handle): Ollama's request stops too
      abort.abort()
      answer.destroy()
      throw err
    }
    const out = pump(answer, stage, framing, {
      beforeEnd: () => stages.beforeEnd(request, status),
      firstChunk: () => stages.firstChunk?.(request),
      failed: () => {
        result.outcome = 'failure'
        result.reason = 'failed mid-stream'
        ctx.streamCut = 'upstream-failed-mid-stream'
        stages.upstreamFailed?.(request, 'mid-stream')
      },
      refused: () => { ctx.streamCut = 'upstream-bad-reply' },
      clientClosed: () => stages.clientClosed?.(request, status),
      holdClosing: stages.holdClosingFrame === true,
      stallTimeoutMs: lease.upstream.idleTimeoutMs
    }, abort)
    return sendProxied(request, reply, stages, status, out)
  }
}

/**
 * Moves upstream chunks through the reply stage to the client as they come: each chunk is handed to
 * the stage and what it lets out is written to the client's socket, with no Node stream in between;
 * when the socket is full, upstream is paused until it drains. If upstream fails mid-stream (idle
 * timeout, reset), whatever the stage still holds back is dropped — never sent unprocessed — and the
 * stream ends with an error line in the reply's framing.
 */
interface PumpHooks {
  beforeEnd: () => Promise<void>
  firstChunk: () => void
  /** upstream failed mid-stream */
  failed: () => void
  /** the stage refused the reply (or could not process it): the client gets an error line instead of the end */
  refused: () => void
  clientClosed: () => void
  holdClosing: boolean
  /** how long a client may read nothing while its socket is full before it is disconnected */
  stallTimeoutMs: number
}

function pump (source: UpstreamBody, stage: ReplyStage, framing: 'ndjson' | 'sse', hooks: PumpHooks,
  abort: AbortController): StreamedReply {
  // fail-closed: the closing frame waits for the audit event; a failed flush replaces it with an error
  const holder = hooks.holdClosing ? createClosingFrameHolder(framing) : null
  let first = true
  let finished = false

  /** the client is gone: the upstream request stops, and the request is audited as cut short */
  const clientLeft = (): void => {
    if (finished) return
    finished = true
    abort.abort()
    source.destroy()
    hooks.clientClosed()
  }

  const sendTo = (raw: ServerResponse): void => {
    let paused = false
    // a client that reads nothing while its socket is full would hold Ollama's generation open for
    // as long as it likes: past the stall timeout (the host's idleTimeoutMs) it is disconnected
    let stalled: NodeJS.Timeout | null = null
    const resume = (): void => {
      paused = false
      if (stalled !== null) { clearTimeout(stalled); stalled = null }
      source.resume()
    }
    const write = (bytes: Buffer): void => {
      const chunk = holder !== null ? holder.push(bytes) : bytes
      if (chunk.length === 0) return
      if (first) { first = false; hooks.firstChunk() }
      if (!raw.write(chunk) && !paused) {
        paused = true
        source.pause()
        stalled = setTimeout(() => raw.destroy(), hooks.stallTimeoutMs)
        raw.once('drain', resume)
      }
    }
    // the audit event is written (and, fail-closed, flushed) before the last byte; if that fails the
    // stream still ends visibly, with an error line, never silently
    const endWith = (last: () => Buffer | string | undefined): void => {
      hooks.beforeEnd().then(() => { raw.end(last()) }, (err: unknown) => { raw.end(streamErrorChunk(framing, (err as Error).message)) })
    }
    /** the reply is over (upstream ended, or the stage closed it with an error frame) */
    const complete = (): void => {
      finished = true
      if (stage.closed) hooks.refused()
      // a stage that closed the reply early (the masker refused it) must not leave Ollama generating
      if (!source.ended) { abort.abort(); source.destroy() }
      endWith(() => {
        const held = holder?.held()
        return held !== undefined && held.length > 0 ? held : undefined
      })
    }
    const fail = (errorText: string): void => {
      if (finished) return
      finished = true
      source.destroy()
      endWith(() => streamErrorChunk(framing, errorText))
    }
    /** the stage threw: fail closed, and stop Ollama as when the stage refuses the reply */
    const stageFailed = (): void => {
      if (finished) return
      hooks.refused()
      abort.abort()
      fail('gatehouse could not process the upstream reply')
    }
    /** hands bytes to the stage (a chunk, or the end of the stream when null) and sends what comes out */
    const through = (received: Buffer | null): void => {
      let out: Buffer
      try {
        out = received === null ? stage.end() : stage.push(received)
      } catch {
        stageFailed()
        return
      }
      write(out)
      if (received === null || stage.closed) complete()
    }

    raw.once('close', () => {
      if (stalled !== null) clearTimeout(stalled)
      if (!raw.writableFinished) clientLeft()
    })
    source.consume({
      data: (received) => { if (!finished) through(received) },
      end: () => { if (!finished) through(null) },
      error: (err) => {
        if (abort.signal.aborted) return
        const timeout = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
        hooks.failed()
        fail(timeout ? 'upstream Ollama stopped sending (idle timeout)' : 'upstream Ollama connection failed mid-stream')
      }
    })
  }
  return { sendTo, abandon: clientLeft }
}
