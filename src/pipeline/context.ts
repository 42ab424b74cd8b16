// What Gatehouse knows about one request as it moves through the pipeline (the stages are listed
// in order in pipeline/index.ts): each stage reads what the ones before it left here.
import type {} from 'fastify'
import type { JsonKind } from '../ollama/go-json.js'
import type { ProxiedRoute } from '../ollama/routes.js'
import type { TokenUsage } from '../ollama/usage.js'
import type { Identity } from '../auth/identity.js'

export interface RequestContext {
  id: string
  sourceIp: string
  startedAt: bigint
  route: ProxiedRoute | null
  identity: Identity | null
  /** the body that will be forwarded: re-serialized from what the policy checked */
  forwardBody: Buffer | null
  /** canonical model names the request uses (on a model denial, the refused one first) */
  models: string[]
  /**
   * Set by the policy guard: the kind of the body's top-level `stream` member as Ollama reads it
   * (null when absent); undefined until the guard has run.
   */
  stream?: JsonKind | null
  /** the forwarded body asks for a usage chunk the client did not ask for: the reply stages remove it */
  usageAdded?: boolean
  decision: 'allow' | 'deny' | null
  reason: string | null
  usage: TokenUsage
  masked: Record<string, number>
  /** the Ollama host(s) that served the request (names joined by "," for a fan-out); null before one is chosen */
  upstream: string | null
  /** hosts tried: 1, or 2 after a failover */
  attempts: number
  /** set once the request's audit event has been emitted */
  audited: boolean
  /** the client hung up before the reply ended */
  clientClosed: boolean
  /**
   * why a streamed reply began but ended with an error line instead of its end: Ollama failed after
   * the reply began, or the reply stages refused what it sent (a frame they cannot read)
   */
  streamCut?: 'upstream-failed-mid-stream' | 'upstream-bad-reply'
}

export function newRequestContext (id: string, sourceIp: string): RequestContext {
  return {
    id, sourceIp, startedAt: process.hrtime.bigint(), route: null, identity: null, forwardBody: null,
    models: [], decision: null, reason: null, usage: { input: null, output: null }, masked: {}, upstream: null, attempts: 0,
    audited: false, clientClosed: false
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** decorated null (app.ts) and set by the first onRequest hook: null only for an error raised before it */
    gh: RequestContext
  }
}
