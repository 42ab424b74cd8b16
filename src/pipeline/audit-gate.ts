// failClosed: no audit, no access. While no sink can write, the routes this gate is put in front
// of (proxied requests, logins, admin calls) answer 503 instead of being served unaudited; health,
// readiness and metrics are not behind it, so operators can see the failure.
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

export function createAuditGate (enabled: boolean, writable: () => boolean) {
  return async function auditGate (request: FastifyRequest): Promise<void> {
    if (!enabled) return
    if (!writable()) {
      request.gh.reason = 'audit-unavailable'
      throw new errors.AUDIT_UNAVAILABLE()
    }
  }
}
