// The control routes (/auth/*, /admin/*) as one surface: small bodies (limits.controlBodyBytes), the
// CSRF guard from the headers, and JSON whose body may be empty (an action such as
// `POST /admin/users/:name/disable` has nothing to send but must still say application/json).
import type { FastifyInstance } from 'fastify'
import { createCsrfGuard } from '../auth/csrf.js'

export interface ControlSurfaceOptions { bodyLimit: number, allowedOrigins: readonly string[] }

/** Installs the hooks on `instance`; the control routes must be registered inside it afterwards. */
export function installControlSurface (instance: FastifyInstance, o: ControlSurfaceOptions): void {
  instance.addHook('onRoute', (route) => { route.bodyLimit ??= o.bodyLimit })
  instance.addHook('onRequest', createCsrfGuard(o.allowedOrigins))
  const json = instance.getDefaultJsonParser('error', 'error')
  instance.removeContentTypeParser('application/json')
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text === '') { done(null, undefined); return }
    json(request, text, done)
  })
}
