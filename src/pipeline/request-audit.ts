// The one place a request becomes an audit event: `model-request` for proxied requests that were
// allowed (with model, status, duration, tokens and masked counts), `access-denied` for every
// denial (401/403/404/405/429 and bad requests on proxied routes); and the rule for which finished
// requests still owe one.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditInput } from '../audit/index.js'
import { splitTarget } from './path-gate.js'

/** `refused`: why an allowed reply did not reach its end (the audit flush failed), as the client saw it */
export function requestAuditInput (request: FastifyRequest, status: number, refused?: string): AuditInput {
  const ctx = request.gh
  const denied = ctx.decision !== 'allow'
  const durationNs = process.hrtime.bigint() - ctx.startedAt
  return {
    action: denied ? 'access-denied' : 'model-request',
    outcome: !denied && status < 400 && !ctx.clientClosed && ctx.streamCut === undefined && refused === undefined ? 'success' : 'failure',
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
      reason: denied
        ? (ctx.reason ?? (status === 401 ? 'no-credential' : `status:${status}`))
        : refused ?? (ctx.clientClosed ? 'client-closed' : ctx.streamCut ?? null),
      credential: ctx.identity?.credential ?? null,
      masked: ctx.masked,
      upstream: ctx.upstream,
      attempts: ctx.attempts
    }
  }
}

/** Health checks are not decisions; /auth/* records its own events (login, logout, MFA). */
const isDecisionPath = (path: string): boolean => !path.startsWith('/auth/') && path !== '/healthz' && path !== '/readyz'

/**
 * Whether a finished request still owes its audit event: every decision is one. Proxied requests
 * not yet audited (denials, bad requests, upstream errors) and any other refusal (/admin, /metrics,
 * probes of unrouted paths) do; successful non-proxied requests and health checks do not.
 */
function owesAuditEvent (request: FastifyRequest, status: number): boolean {
  const ctx = request.gh
  if (!ctx || ctx.audited) return false
  return ctx.route !== null || (status >= 400 && isDecisionPath(request.url))
}

/** The onResponse stage: emits the event a finished request still owes, once. */
export function createResponseAudit (emit: (e: AuditInput) => void) {
  return function auditResponse (request: FastifyRequest, reply: FastifyReply): void {
    if (!owesAuditEvent(request, reply.statusCode)) return
    request.gh.audited = true
    emit(requestAuditInput(request, reply.statusCode))
  }
}
