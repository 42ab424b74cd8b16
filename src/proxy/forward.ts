// Forwards one checked request to Ollama and streams the reply back. Streams (NDJSON, SSE) are
// passed on chunk by chunk through the reply stages (masking or a usage observer) with no
// buffering; single JSON replies are read whole (they are whole upstream too) so list filtering
// and masking see complete documents and a failure can still become a clean 502/504.
import { PassThrough, type Readable, type Transform } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Upstream } from './upstream.js'
import { errors } from '../errors.js'
import { isUpstreamTimeout, upstreamError } from './upstream.js'
import { upstreamRequestHeaders, clientReplyHeaders } from './headers.js'
import { streamErrorChunk } from '../ollama/error-shape.js'
import { createClosingFrameHolder } from '../ollama/closing-frame.js'
import { upstreamPath, type ProxiedRoute, type ReplyKind } from '../ollama/routes.js'

export type Framing = 'ndjson' | 'sse' | 'json'

export interface ReplyStages {
  /** transforms for a streamed reply, applied in order; the last one's output goes to the client */
  stream: (request: FastifyRequest, route: ProxiedRoute, framing: 'ndjson' | 'sse') => Transform[]
  /** rewrite a whole (non-streamed) JSON reply: list filtering, masking */
  json: (request: FastifyRequest, route: ProxiedRoute, body: Buffer, status: number) => Promise<Buffer>
  /** awaited before the reply's last byte leaves: the audit event is written (and flushed) here */
  beforeEnd: (request: FastifyRequest, status: number) => Promise<void>
  /** the first streamed chunk is on its way to the client (time to first token) */
  firstChunk?: (request: FastifyRequest) => void
  /** Ollama could not be reached or failed mid-reply */
  upstreamFailed?: (request: FastifyRequest, kind: 'timeout' | 'unavailable' | 'mid-stream') => void
  /** the client hung up before the stream ended; the upstream request has been aborted */
  clientClosed?: (request: FastifyRequest, status: number) => void
  /** hold a stream's closing frame until beforeEnd has succeeded (audit.failClosed) */
  holdClosingFrame?: boolean
}

export function framingOf (contentType: string | string[] | undefined): Framing {
  const ct = String(contentType ?? '').toLowerCase()
  if (ct.includes('application/x-ndjson') || ct.includes('application/ndjson')) return 'ndjson'
  if (ct.includes('text/event-stream')) return 'sse'
  return 'json'
}

const LIST_REPLIES: ReadonlySet<ReplyKind> = new Set<ReplyKind>(['tags', 'ps', 'openai-models', 'openai-model'])

const MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024

async function readAll (body: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) throw new errors.UPSTREAM_TOO_LARGE()
    parts.push(chunk as Buffer)
  }
  return Buffer.concat(parts)
}

/** The client hung up while we waited on Ollama: nothing is left to send, but the request is audited (499, as nginx logs it). */
function clientGone (request: FastifyRequest, reply: FastifyReply, stages: ReplyStages): void {
  stages.clientClosed?.(request, 499)
  reply.hijack()
}

export function createForwarder (upstream: Upstream, stages: ReplyStages) {
  return async function forward (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ctx = request.gh
    const route = ctx.route as ProxiedRoute
    // only the body the policy checked and re-serialized is ever forwarded; without one, nothing is
    if (route.body !== 'none' && ctx.forwardBody === null) throw new Error(`${route.id}: no checked body (policy guard missing)`)
    const body = route.body === 'none' ? null : ctx.forwardBody
    const abort = new AbortController()
    // a client that hangs up stops the generation upstream
    reply.raw.once('close', () => { if (!reply.raw.writableFinished) abort.abort() })

    let res
    try {
      res = await upstream.pool.request({
        method: route.method,
        path: upstreamPath(route, request.params as Record<string, string>),
        headers: upstreamRequestHeaders(request.headers, upstream.host, ctx.id, body === null ? null : body.length),
        body,
        signal: abort.signal,
        headersTimeout: upstream.headersTimeoutMs,
        bodyTimeout: upstream.idleTimeoutMs
      })
    } catch (err) {
      if (abort.signal.aborted) return clientGone(request, reply, stages)
      const mapped = upstreamError(err)
      stages.upstreamFailed?.(request, isUpstreamTimeout(err) ? 'timeout' : 'unavailable')
      throw mapped
    }

    // model lists are always read whole, whatever they are labelled, so the policy filter cannot be
    // skipped by a reply that calls itself a stream
    const framing = route.method === 'HEAD' || LIST_REPLIES.has(route.reply) ? 'json' : framingOf(res.headers['content-type'])
    const rewritten = route.method !== 'HEAD'
    reply.code(res.statusCode)
    reply.headers(clientReplyHeaders(res.headers, rewritten))

    if (framing === 'json') {
      let raw: Buffer
      try {
        raw = route.method === 'HEAD' ? (await res.body.dump(), Buffer.alloc(0)) : await readAll(res.body, MAX_JSON_REPLY_BYTES)
      } catch (err) {
        if (abort.signal.aborted) return clientGone(request, reply, stages)
        stages.upstreamFailed?.(request, 'mid-stream')
        throw err instanceof errors.UPSTREAM_TOO_LARGE ? err : upstreamError(err)
      }
      const out = route.method === 'HEAD' ? raw : await stages.json(request, route, raw, res.statusCode)
      await stages.beforeEnd(request, res.statusCode)
      if (route.method !== 'HEAD') reply.header('content-length', out.length)
      return reply.send(out)
    }

    const status = res.statusCode
    const out = pump(res.body, stages.stream(request, route, framing), framing, {
      beforeEnd: () => stages.beforeEnd(request, status),
      firstChunk: () => stages.firstChunk?.(request),
      failed: () => stages.upstreamFailed?.(request, 'mid-stream'),
      clientClosed: () => stages.clientClosed?.(request, status),
      holdClosing: stages.holdClosingFrame === true
    }, abort)
    return reply.send(out)
  }
}

/**
 * Moves upstream chunks through the stages to the client as they come. If upstream fails
 * mid-stream (idle timeout, reset), whatever a stage still holds back is dropped — never sent
 * unprocessed — and the stream ends with an error line in the reply's framing.
 */
interface PumpHooks { beforeEnd: () => Promise<void>, firstChunk: () => void, failed: () => void, clientClosed: () => void,
  holdClosing: boolean }

function pump (source: Readable, stages: Transform[], framing: 'ndjson' | 'sse', hooks: PumpHooks, abort: AbortController): PassThrough {
  const { beforeEnd } = hooks
  let first = true
  const out = new PassThrough()
  let tail: Readable = source
  for (const stage of stages) tail = tail.pipe(stage)
  let finished = false

  const finish = (errorText: string | null) => {
    if (finished) return
    finished = true
    for (const s of stages) s.destroy()
    if (!source.destroyed) source.destroy()
    beforeEnd().then(
      () => { out.end(errorText === null ? undefined : streamErrorChunk(framing, errorText)) },
      (err: unknown) => { out.end(streamErrorChunk(framing, (err as Error).message)) }
    )
  }

  // fail-closed: the closing frame waits for the audit event; a failed flush replaces it with an error
  const holder = hooks.holdClosing ? createClosingFrameHolder(framing) : null
  tail.on('data', (received: Buffer) => {
    if (finished) return
    const chunk = holder ? holder.push(received) : received
    if (chunk.length === 0) return
    if (first) { first = false; hooks.firstChunk() }
    if (!out.write(chunk)) {
      tail.pause()
      out.once('drain', () => tail.resume())
    }
  })
  // the audit event is written (and, fail-closed, flushed) before the last byte; if that fails the
  // stream still ends visibly, with an error line, never silently
  tail.once('end', () => {
    if (finished) return
    finished = true
    // a stage that ended early (the masker refused the reply) must not leave Ollama generating
    if (!source.readableEnded) { abort.abort(); source.destroy() }
    beforeEnd().then(() => {
      const held = holder?.held()
      out.end(held !== undefined && held.length > 0 ? held : undefined)
    }, (err: unknown) => out.end(streamErrorChunk(framing, (err as Error).message)))
  })
  const onError = (err: Error) => {
    if (abort.signal.aborted) return
    const timeout = (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
    hooks.failed()
    finish(timeout ? 'upstream Ollama stopped sending (idle timeout)' : 'upstream Ollama connection failed mid-stream')
  }
  source.on('error', onError)
  for (const s of stages) s.on('error', () => finish('gatehouse could not process the upstream reply'))
  out.once('close', () => {
    if (!finished) { finished = true; abort.abort(); source.destroy(); for (const s of stages) s.destroy(); hooks.clientClosed() }
  })
  return out
}
