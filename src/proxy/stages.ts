// What the proxy's handlers share: the reply stages they call (list filtering, masking, audit), how
// a reply's framing is read, the one way a request is sent to Ollama, and a client that hung up.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ReplyStage } from '../ollama/reply-stage.js'
import { upstreamPath, type ProxiedRoute } from '../ollama/routes.js'
import { upstreamRequestHeaders } from './headers.js'
import type { Upstream } from './upstream.js'
import { callUpstream, type UpstreamReply } from './upstream-call.js'

export type Framing = 'ndjson' | 'sse' | 'json'

export interface ReplyStages {
  /** what a streamed reply's bytes go through (ollama/reply-stage.ts); its output goes to the client */
  stream: (request: FastifyRequest, route: ProxiedRoute, framing: 'ndjson' | 'sse') => ReplyStage
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
  /**
   * just before a proxied reply's status and headers are written, past Fastify's onSend hooks: what
   * those hooks would add (the body guard's Connection: close) is added here. Required, so that no
   * set of stages can leave it out.
   */
  beforeHead: (request: FastifyRequest, reply: FastifyReply) => void
  /** hold a stream's closing frame until beforeEnd has succeeded (audit.failClosed) */
  holdClosingFrame?: boolean
}

export function framingOf (contentType: string | string[] | undefined): Framing {
  const ct = String(contentType ?? '').toLowerCase()
  if (ct.includes('application/x-ndjson') || ct.includes('application/ndjson')) return 'ndjson'
  if (ct.includes('text/event-stream')) return 'sse'
  return 'json'
}

export const MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024

/** A streamed reply that starts once its status and headers are out (see pump in forward.ts). */
export interface StreamedReply {
  /** writes the reply's chunks to the client's socket as they come, until it ends */
  sendTo: (raw: ServerResponse) => void
  /** the client is gone before anything was sent: stops the upstream request */
  abandon: () => void
}

/**
 * Sends a proxied reply's bytes straight to the client's socket. They are already framed, masked and
 * counted, so Fastify's send path (serializers, onSend hooks, content-type guessing) has nothing to
 * add and only costs time on every request; the headers already set on the reply go with them, with
 * what stages.beforeHead adds (and the length of a whole body), and the onResponse stages (audit
 * event, metrics) still run when the reply finishes.
 */
export function sendProxied (request: FastifyRequest, reply: FastifyReply, stages: ReplyStages, status: number,
  body: Buffer | StreamedReply): void {
  try {
    stages.beforeHead(request, reply)
  } catch (err) {
    // the error handler answers instead; a stream that will never be sent stops its upstream request
    if (!Buffer.isBuffer(body)) body.abandon()
    throw err
  }
  reply.hijack()
  const raw = reply.raw
  const headers = reply.getHeaders() as OutgoingHttpHeaders
  // what Fastify's send path did for these replies: no body or length on a reply that has none, and
  // a type on one that came without
  const bodiless = status === 204 || status === 304 || status < 200
  if (bodiless) { delete headers['content-length']; delete headers['content-type'] } else {
    if (headers['content-type'] === undefined) headers['content-type'] = 'application/octet-stream'
    if (Buffer.isBuffer(body)) headers['content-length'] = body.length
  }
  try {
    raw.writeHead(status, headers)
    if (Buffer.isBuffer(body)) { raw.end(bodiless ? undefined : body); return }
    // a client already gone leaves nothing to send to
    if (raw.destroyed) { body.abandon(); return }
    body.sendTo(raw)
  } catch (err) {
    // past hijack() no error handler answers: the connection is closed rather than left waiting
    if (!Buffer.isBuffer(body)) body.abandon()
    raw.destroy(err as Error)
  }
}

/** The client hung up while we waited on Ollama: nothing is left to send, but the request is audited (499, as nginx logs it). */
export function clientGone (request: FastifyRequest, reply: FastifyReply, stages: ReplyStages): void {
  stages.clientClosed?.(request, 499)
  reply.hijack()
}

/**
 * Sends the checked request to one Ollama host: the route's method and path, the forwarded headers
 * (Host of that host, never the client's credentials), the checked body, the host's timeouts. The
 * forwarder, the fan-out and the list union all send requests this one way.
 */
export function sendUpstream (upstream: Upstream, route: ProxiedRoute, request: FastifyRequest, body: Buffer | null,
  signal: AbortSignal): Promise<UpstreamReply> {
  return callUpstream(upstream.pool, {
    method: route.method,
    path: upstreamPath(route, request.params as Record<string, string>),
    headers: upstreamRequestHeaders(request.headers, upstream.host, request.gh.id, body === null ? null : body.length),
    body,
    headersTimeout: upstream.headersTimeoutMs,
    bodyTimeout: upstream.idleTimeoutMs
  }, signal)
}
