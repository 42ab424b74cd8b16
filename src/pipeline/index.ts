// The request pipeline of a proxied route, in the one order it runs:
//
//   1. path gate       pipeline/path-gate.ts      onRequest: only canonical paths reach the router
//   2. load shedding   ops/load-shedding.ts       503 while the event loop runs behind (limits.maxEventLoopDelayMs)
//   3. audit gate      pipeline/audit-gate.ts     503 while no audit sink can write (fail-closed)
//   4. authenticate    auth/authenticate.ts       session token or API key -> identity, else 401 (a cookie
//                      auth/csrf.ts               from another origin on a state-changing request: 403)
//   5. authorize       rbac/guard.ts              permission and model rules; fixes the body to forward
//   6. rate limit      ops/rate-limit.ts          requests per minute and concurrent streams, else 429
//   7. quota           quotas/guard.ts            token quotas per day and month, else 429; meters what passes
//   8. prompt masking  pipeline/prompt-masking.ts masks prompts (masking.direction "both")
//   9. forward         proxy/forward.ts           the handler: the checked body goes to Ollama
//  10. reply stages    pipeline/reply-stages.ts   list filtering, masking, usage, on the way back
//  11. audit event     pipeline/request-audit.ts  one event per decision, at the latest onResponse
//
// Stages 2 to 4 run as the route's onRequest hooks, from the headers alone, so a caller without a
// credential never makes the gateway read a byte of its body; stages 5 to 8 are its preHandlers,
// once the body is read. proxyGuards below builds both lists; app.ts wires 1, 9 and 11.
// The rate limit and the quota run before prompt masking so that a refused request costs no masking work.
import type { onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify'

export const PIPELINE_STAGES = [
  'path gate', 'load shedding', 'audit gate', 'authenticate', 'authorize', 'rate limit', 'quota', 'prompt masking',
  'forward', 'reply stages', 'audit event'
] as const

export type HeaderGuard = onRequestAsyncHookHandler
export type Guard = preHandlerAsyncHookHandler

export interface GuardStages {
  /** null when load shedding is off (limits.maxEventLoopDelayMs 0) */
  loadShedding: HeaderGuard | null
  auditGate: HeaderGuard
  /** a state-changing request riding on the session cookie must come from the gateway's own origin */
  cookieOrigin: HeaderGuard
  authenticate: HeaderGuard
  authorize: Guard
  rateLimit: Guard
  quota: Guard
  /** null when prompts are not masked (masking off, or replies only) */
  promptMasking: Guard | null
}

/** A proxied route's guards in pipeline order: stages 2–4 from the headers, 5–8 with the body. */
export function proxyGuards (s: GuardStages): { headerGuards: HeaderGuard[], guards: Guard[] } {
  return {
    headerGuards: [...(s.loadShedding ? [s.loadShedding] : []), s.auditGate, s.cookieOrigin, s.authenticate],
    guards: [s.authorize, s.rateLimit, s.quota, ...(s.promptMasking ? [s.promptMasking] : [])]
  }
}

export { createAuditGate } from './audit-gate.js'
export { createPromptMaskingGuard } from './prompt-masking.js'
export { createReplyStages, type ReplyMetrics, type ReplyStageDeps } from './reply-stages.js'
export { createResponseAudit } from './request-audit.js'
