// buildApp: the Fastify application as a composition of plugins, in pipeline order. It only wires;
// every concern lives in its own module. gateway.ts builds the dependencies; cli/serve.ts listens.
import { randomUUID } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync, type preHandlerAsyncHookHandler } from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { parseCidr, type Cidr } from './config/cidr.js'
import { tlsServerOptions } from './tls/server-options.js'
import { newRequestContext } from './pipeline/context.js'
import { resolveSourceIp } from './pipeline/source-ip.js'
import { isCanonicalPath, splitTarget } from './pipeline/path-gate.js'
import { errorHandler, sendError } from './pipeline/error-handler.js'
import { PROXIED_ROUTES, methodsByPath } from './ollama/routes.js'
import { errors } from './errors.js'
import { createForwarder, type ReplyStages } from './proxy/forward.js'
import type { UpstreamTargets } from './proxy/target.js'

export interface ReadinessCheck { name: string, check: () => Promise<boolean> }

export interface AppDeps {
  config: GatehouseConfig
  /** which Ollama host each proxied request goes to */
  targets: UpstreamTargets
  /** run in order before the proxy: credential loaders, policy (which leaves the checked body), rate limit */
  guards: preHandlerAsyncHookHandler[]
  stages: ReplyStages
  readiness: ReadinessCheck[]
  /** application plugins registered at the root (auth routes, admin API, metrics), in order */
  plugins: Array<FastifyPluginAsync>
  /** request-level hooks: called once per request when the reply is done (audit, metrics) */
  onResponse?: (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => void | Promise<void>
  logger?: boolean | Record<string, unknown>
}

/** Known paths (route patterns) as predicates, for telling 405 from 404. */
function knownPathMatchers (): Array<{ test: (path: string) => boolean, methods: string[] }> {
  return [...methodsByPath()].map(([pattern, methods]) => {
    const re = new RegExp('^' + pattern.replace(/:\w+/g, '[^/]+') + '$')
    return { test: (p: string) => re.test(p), methods }
  })
}

export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const trusted: Cidr[] = config.trustProxies.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null)
  const tls = config.tls.enabled ? tlsServerOptions(config.tls) : null

  const app = Fastify({
    logger: deps.logger ?? false,
    // every request is already one audit event; per-request operational log lines would only duplicate it
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: false,
    return503OnClosing: true,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      const common = { maxHeaderSize: config.limits.headerBytes, requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 5_000 }
      // an https.Server is an http.Server to Fastify; typed as one so the instance keeps default types
      return (tls ? createHttpsServer({ ...tls, ...common }, handler) : createHttpServer(common, handler)) as Server
    }
  })

  app.setErrorHandler(errorHandler)

  app.addHook('onRequest', async (request, reply) => {
    const xff = trusted.length > 0 ? request.headers['x-forwarded-for'] : undefined
    request.gh = newRequestContext(request.id, resolveSourceIp(request.raw.socket.remoteAddress, xff, trusted))
    reply.header('x-request-id', request.id)
    if (!isCanonicalPath(request.raw.url ?? '')) throw new errors.ROUTE_NOT_FOUND()
  })
  if (deps.onResponse) app.addHook('onResponse', deps.onResponse)

  const knownPaths = knownPathMatchers()
  app.setNotFoundHandler((request, reply) => {
    const { path } = splitTarget(request.raw.url ?? '')
    const known = knownPaths.find((k) => k.test(path))
    if (known) {
      reply.header('allow', known.methods.join(', '))
      return sendError(request, reply, 405, 'method not allowed', 'GH_ERR_METHOD_NOT_ALLOWED')
    }
    return sendError(request, reply, 404, 'not found', 'GH_ERR_ROUTE_NOT_FOUND')
  })

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(deps.readiness.map(async (r) => [r.name, await r.check().catch(() => false)] as const))
    const failing = results.filter(([, ok]) => !ok).map(([name]) => name)
    return reply.code(failing.length === 0 ? 200 : 503).send(failing.length === 0 ? { status: 'ready' } : { status: 'not ready', failing })
  })

  for (const plugin of deps.plugins) await app.register(plugin)

  // The proxy lives in its own encapsulated context so its raw-body parser cannot leak elsewhere.
  const forward = createForwarder(deps.targets, deps.stages)
  await app.register(async (proxy) => {
    proxy.removeAllContentTypeParsers()
    proxy.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.limits.bodyBytes }, (_req, body, done) => { done(null, body) })
    for (const route of PROXIED_ROUTES) {
      proxy.route({
        method: route.method,
        url: route.path,
        exposeHeadRoute: false,
        onRequest: async (request) => { request.gh.route = route },
        preHandler: deps.guards,
        handler: forward
      })
    }
  })

  return app
}
