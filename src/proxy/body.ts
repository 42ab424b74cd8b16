// Last guard before the proxy: a JSON route forwards only a body that is a JSON object and was
// re-serialized from what the checks saw. When the policy guard has already produced that body
// it is kept; otherwise the body is parsed and re-serialized here.
import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

export async function checkJsonBody (request: FastifyRequest): Promise<void> {
  const ctx = request.gh
  const route = ctx.route
  if (!route) throw new errors.ROUTE_NOT_FOUND()
  if (route.body === 'binary') { ctx.forwardBody ??= Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0); return }
  if (route.body === 'none' || ctx.forwardBody !== null) return
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new errors.INVALID_JSON()
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new errors.BODY_NOT_OBJECT()
  ctx.forwardBody = Buffer.from(JSON.stringify(parsed))
}
