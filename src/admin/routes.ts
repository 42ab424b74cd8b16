// The admin HTTP API under /admin: the same operations as the `gatehouse user|key` commands, through
// the same UserAdmin implementation (same rules, same audit events). Only an MFA session holding the
// `admin` permission gets in; API keys never do.
import type { FastifyPluginAsync, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { errors } from '../errors.js'
import type { UserAdmin } from '../auth/user-admin.js'
import type { Actor } from '../auth/deps.js'
import { mfaSatisfied } from '../auth/mfa-policy.js'
import type { Policy } from '../rbac/policy.js'
import { strictRouteSchemas } from '../config/validation.js'
import { AddUserBody, AuditQuery, CreateKeyBody, RotateKeyBody, SetPasswordBody, SetRoleBody, UsageQuery } from './schemas.js'

export interface AdminRoutesOptions {
  userAdmin: UserAdmin
  policy: Policy
  /** sessions only (API keys are refused); run as an onRequest hook */
  authenticateSession: onRequestAsyncHookHandler
  /** every Ollama host's state now (GET /admin/upstreams) */
  upstreams?: () => unknown[]
  /** the latest audit events of the file sink, filtered, with the chain's state (GET /admin/audit) */
  auditQuery?: (q: { action?: string, user?: string, outcome?: 'success' | 'failure', limit?: number }) => Promise<unknown>
  /** the checks of `compliance check` (GET /admin/compliance) */
  compliance?: () => Promise<unknown>
  /** the usage records summed (GET /admin/usage); `since` is a period such as 30d */
  usage?: (since: string, by: NonNullable<UsageQuery['by']>) => Promise<unknown>
}

const actorOf = (request: FastifyRequest): Actor =>
  ({ sourceIp: request.gh.sourceIp, requestId: request.gh.id, userName: request.gh.identity?.name })

export function adminRoutes (o: AdminRoutesOptions): FastifyPluginAsync {
  return async function adminPlugin (app) {
    strictRouteSchemas(app)
    // from the headers: no body is read for a caller who may not use /admin
    app.addHook('onRequest', o.authenticateSession)
    app.addHook('onRequest', async (request) => {
      const id = request.gh.identity
      if (!id || id.credential !== 'session') throw new errors.AUTH_REQUIRED()
      if (!o.policy.permits(id.roles, 'admin')) { request.gh.reason = 'permission:admin'; throw new errors.FORBIDDEN('admin') }
      if (!mfaSatisfied(id.amr)) { request.gh.reason = 'mfa-required'; throw new errors.MFA_REQUIRED('the admin API') }
      request.gh.decision = 'allow'
    })
    app.addHook('onSend', async (_request, reply, payload) => { reply.header('cache-control', 'no-store'); return payload })

    type P = { Params: { name: string } }
    app.get('/admin/users', async () => ({ users: await o.userAdmin.listUsers() }))
    app.post<{ Body: AddUserBody }>('/admin/users', { schema: { body: AddUserBody } }, async (request, reply) => {
      const b = request.body
      const r = await o.userAdmin.addUser(b.username, b.role, b.password, actorOf(request), { temporary: b.temporary === true })
      return reply.code(201).send({ user: r.user, ...(r.generatedPassword ? { one_time_password: r.generatedPassword } : {}) })
    })
    app.get<P>('/admin/users/:name', async (request) => ({ user: await o.userAdmin.getUser(request.params.name) }))
    app.post<P>('/admin/users/:name/disable', async (request) =>
      ({ user: await o.userAdmin.disableUser(request.params.name, actorOf(request)) }))
    app.post<P>('/admin/users/:name/enable', async (request) =>
      ({ user: await o.userAdmin.enableUser(request.params.name, actorOf(request)) }))
    app.post<P & { Body: SetRoleBody }>('/admin/users/:name/role', { schema: { body: SetRoleBody } }, async (request) =>
      ({ user: await o.userAdmin.setRole(request.params.name, request.body.role, actorOf(request)) }))
    app.post<P>('/admin/users/:name/reset-mfa', async (request) =>
      ({ user: await o.userAdmin.resetMfa(request.params.name, actorOf(request)) }))
    app.post<P & { Body: SetPasswordBody }>('/admin/users/:name/password', { schema: { body: SetPasswordBody } },
      async (request) =>
      ({ user: await o.userAdmin.setPassword(request.params.name, request.body.password, actorOf(request),
        { temporary: request.body.temporary === true }) }))
    // the person's account data goes (sessions, TOTP secret, failure counter); their audit events stay
    app.delete<P>('/admin/users/:name', async (request) =>
      ({ deleted: await o.userAdmin.deleteUser(request.params.name, actorOf(request)) }))
    app.post<P>('/admin/users/:name/unlock', async (request) => ({ user: await o.userAdmin.unlock(request.params.name, actorOf(request)) }))
    app.get<P>('/admin/users/:name/sessions', async (request) => ({ sessions: await o.userAdmin.listSessions(request.params.name) }))
    app.delete<{ Params: { id: string } }>('/admin/sessions/:id', async (request, reply) => {
      if (!await o.userAdmin.revokeSession(request.params.id, actorOf(request))) throw new errors.NOT_FOUND('session')
      return reply.code(204).send()
    })

    app.get('/admin/upstreams', async () => ({ upstreams: o.upstreams?.() ?? [] }))
    app.get<{ Querystring: AuditQuery }>('/admin/audit', { schema: { querystring: AuditQuery } }, async (request) => {
      if (o.auditQuery === undefined) throw new errors.NOT_FOUND('audit log')
      const q = request.query
      const limit = q.limit === undefined ? undefined : Number(q.limit)
      return o.auditQuery({ action: q.action, user: q.user, outcome: q.outcome, limit })
    })
    app.get('/admin/compliance', async () => {
      if (o.compliance === undefined) throw new errors.NOT_FOUND('compliance report')
      return o.compliance()
    })
    app.get('/admin/keys', async () => ({ keys: await o.userAdmin.listKeys() }))
    app.post<{ Body: CreateKeyBody }>('/admin/keys', { schema: { body: CreateKeyBody } }, async (request, reply) => {
      const b = request.body
      const r = await o.userAdmin.createKey({ name: b.name, role: b.role, expiresIn: b.expires_in ?? null }, actorOf(request))
      return reply.code(201).send({ key: r.key, record: r.record })
    })
    app.post<{ Params: { id: string } }>('/admin/keys/:id/revoke',
      async (request) => ({ key: await o.userAdmin.revokeKey(request.params.id, actorOf(request)) }))
    app.post<{ Params: { id: string }, Body: RotateKeyBody }>('/admin/keys/:id/rotate', { schema: { body: RotateKeyBody } },
      async (request, reply) => {
        const r = await o.userAdmin.rotateKey(request.params.id, request.body.grace ?? null, actorOf(request))
        return reply.code(201).send({ key: r.key, record: r.record, previous: r.previous })
      })
    app.get<{ Querystring: UsageQuery }>('/admin/usage', { schema: { querystring: UsageQuery } }, async (request) => {
      if (o.usage === undefined) throw new errors.NOT_FOUND('usage')
      return await o.usage(request.query.since ?? '30d', request.query.by ?? 'user')
    })
  }
}
