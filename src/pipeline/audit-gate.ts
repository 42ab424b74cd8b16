// failClosed: no audit, no access. While no sink can write, proxied requests, logins and admin
// calls answer 503 instead of being served unaudited. Health, readiness and metrics stay up so
// operators can see the failure.
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

export function createAuditGate (enabled: boolean, writable: () => boolean) {
  return async function auditGate (request: FastifyRequest): Promise<void> {
    if (!enabled) return
    const path = request.url
    if (path === '/healthz' || path === '/readyz' || path.startsWith('/metrics')) return
    if (!writable()) {
      request.gh.reason = 'audit-unavailable'
      throw new errors.AUDIT_UNAVAILABLE()
    }
  }
}
