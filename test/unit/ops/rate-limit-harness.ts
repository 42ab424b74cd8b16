// A small real server around the rate-limit guard: identity from a test header, the route table's
// route, the project's one error handler, and streaming handlers that hold the response open until
// the test ends them, so concurrency is measured on real sockets.
import Fastify, { type FastifyInstance } from 'fastify'
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { newRequestContext } from '../../../src/pipeline/context.js'
import type { Identity } from '../../../src/auth/identity.js'
import { errorHandler } from '../../../src/pipeline/error-handler.js'
import { PROXIED_ROUTES } from '../../../src/ollama/routes.js'
import { createRateLimitGuard, type RateLimitDeps } from '../../../src/ops/rate-limit.js'
import { createAuthorizeGuard } from '../../../src/rbac/guard.js'
import { createPolicy } from '../../../src/rbac/policy.js'

export interface Harness {
  app: FastifyInstance
  port: number
  /** ends every held stream */
  endStreams: () => void
  openStreams: () => number
  close: () => Promise<void>
}

export function identityHeader (id: Partial<Identity> & { name: string }): string {
  return JSON.stringify({ credential: 'session', roles: ['user'], amr: ['pwd'], credentialId: `jti-${id.name}`, expiresAt: null, ...id })
}

export async function startHarness (deps: RateLimitDeps): Promise<Harness> {
  const app = Fastify()
  const held = new Set<() => void>()
  app.setErrorHandler(errorHandler)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  app.addHook('onRequest', async (request) => {
    request.gh = newRequestContext(request.id, '127.0.0.1')
    const h = request.headers['x-test-identity']
    request.gh.identity = typeof h === 'string' ? JSON.parse(h) as Identity : null
  })
  const guard = createRateLimitGuard(deps)
  // the policy guard runs first, as in the gateway: it reads `stream` from the body for the limit
  const authorizeRequest = createAuthorizeGuard(createPolicy({ user: { permissions: ['*'], models: ['*'] } }))
  for (const id of ['POST /api/chat', 'POST /api/generate', 'POST /api/embed', 'POST /v1/chat/completions', 'POST /api/pull']) {
    const route = PROXIED_ROUTES.find((r) => r.id === id)
    if (!route) throw new Error(id)
    app.route({
      method: route.method,
      url: route.path,
      onRequest: async (request) => { request.gh.route = route },
      preHandler: [authorizeRequest, guard],
      handler: async (request, reply) => {
        if (request.headers['x-test-hold'] !== '1') return reply.send({ ok: true })
        reply.hijack()
        reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' })
        reply.raw.write('{"first":true}\n')
        await new Promise<void>((resolve) => {
          const end = () => { held.delete(end); resolve() }
          held.add(end)
          reply.raw.once('close', end)
        })
        if (!reply.raw.writableEnded) reply.raw.end('{"done":true}\n')
      }
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    app, port,
    endStreams: () => { for (const end of [...held]) end() },
    openStreams: () => held.size,
    close: async () => { for (const end of [...held]) end(); await app.close() }
  }
}

export interface Sent { status: number, headers: IncomingMessage['headers'], body: string }

/** A request that completes. */
export function send (port: number, path: string, identity: string, body: unknown = { model: 'llama3.2', stream: false }): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path, headers: { 'content-type': 'application/json', 'x-test-identity': identity } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(typeof body === 'string' ? body : JSON.stringify(body))
  })
}

/** A streaming request held open by the server; resolves once the first chunk (or an error reply) arrived. */
export function openStream (port: number, path: string, identity: string, body: unknown = { model: 'llama3.2' }): Promise<{ status: number, headers: IncomingMessage['headers'], body: Promise<string>, req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path, headers: { 'content-type': 'application/json', 'x-test-identity': identity, 'x-test-hold': '1' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      const done = new Promise<string>((r) => { res.on('end', () => r(text)); res.on('close', () => r(text)) })
      res.once('data', (c: string) => {
        text += c
        res.on('data', (d: string) => { text += d })
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: done, req })
      })
    })
    req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    req.end(typeof body === 'string' ? body : JSON.stringify(body))
  })
}
