// The one place a request becomes an audit event: `model-request` for proxied requests that were
// allowed (with model, status, duration, tokens and masked counts), `access-denied` for every
// denial (401/403/404/405/429 and bad requests on proxied routes).
import type { FastifyRequest } from 'fastify'
import type { AuditInput } from '../audit/index.js'
import { splitTarget } from './path-gate.js'

/** `refused`: why an allowed reply did not reach its end (the audit flush failed), as the client saw it */
export function requestAuditInput (request: FastifyRequest, status: number, refused?: string): AuditInput {
  const ctx = request.gh
  const denied = ctx.decision !== 'allow'
  const durationNs = process.hrtime.bigint() - ctx.startedAt
  return {
    action: denied ? 'access-denied' : 'model-request',
    outcome: !denied && status < 400 && !ctx.clientClosed && refused === undefined ? 'success' : 'failure',
    sourceIp: ctx.sourceIp,
    requestId: ctx.id,
    ...(ctx.identity ? { userName: ctx.identity.name } : {}),
    request: {
      method: request.method,
      path: splitTarget(request.raw.url ?? '').path, // bounded where the event is built
      status,
      durationNs,
      model: ctx.models[0] ?? null,
      inputTokens: ctx.usage.input,
      outputTokens: ctx.usage.output,
      decision: denied ? 'deny' : 'allow',
      reason: denied ? (ctx.reason ?? (status === 401 ? 'no-credential' : `status:${status}`)) : refused ?? (ctx.clientClosed ? 'client-closed' : null),
      credential: ctx.identity?.credential ?? null,
      masked: ctx.masked,
      upstream: ctx.upstream,
      attempts: ctx.attempts
    }
  }
}
