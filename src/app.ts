// buildApp: the Fastify application, wired in pipeline order (pipeline/index.ts lists the stages):
// path gate (onRequest) → the proxied route's header guards (load shedding → audit gate → cookie origin →
// authenticate, before the body is read) → its guards (authorize → rate limit → quota → prompt
// masking) → forward (proxy/forward.ts, with the reply stages) → audit event and metrics (onResponse).
// It only wires; every concern lives in its own module. gateway.ts builds the dependencies;
// cli/serve.ts listens. app.close() alone releases what the app was given (`release`).
import { randomUUID } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import Fastify, {
  LogController, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest,
  type onRequestAsyncHookHandler, type preHandlerAsyncHookHandler
} from 'fastify'
import type { GatehouseConfig } from './config/schema.js'
import { cidrContains, parseCidr, type Cidr } from './config/cidr.js'
import { tlsServerOptions } from './tls/server-options.js'
import { refusePlainHttp } from './tls/plain-http-guard.js'
import { newRequestContext } from './pipeline/context.js'
import { resolveSourceIp } from './pipeline/source-ip.js'
import { isCanonicalPath, splitTarget } from './pipeline/path-gate.js'
import { errorHandler, sendError } from './pipeline/error-handler.js'
import { PROXIED_ROUTES, methodsByPath } from './ollama/routes.js'
import { errors } from './errors.js'
import { createForwarder, type ReplyStages } from './proxy/forward.js'
import type { UpstreamTargets } from './proxy/target.js'
import { systemClock, type Clock } from './clock.js'
import { createBodyGuard } from './pipeline/body-guard.js'
import { limitConnections } from './ops/connection-limits.js'

const HEADERS_TIMEOUT_MS = 30_000

export interface ReadinessCheck { name: string, check: () => Promise<boolean> }

export interface AppDeps {
  config: GatehouseConfig
  /** which Ollama host each proxied request goes to */
  targets: UpstreamTargets
  /** the proxied routes' onRequest guards, run before a byte of the body is read (pipeline/index.ts proxyGuards) */
  headerGuards: onRequestAsyncHookHandler[]
  /** the proxied routes' preHandlers, once the body is read, in pipeline order (pipeline/index.ts proxyGuards) */
  guards: preHandlerAsyncHookHandler[]
  stages: ReplyStages
  readiness: ReadinessCheck[]
  /** application plugins registered at the root (auth routes, admin API, metrics), in order */
  plugins: Array<FastifyPluginAsync>
  /** called in order once per request when the reply is done (audit event, metrics) */
  onResponse?: Array<(request: FastifyRequest, reply: FastifyReply) => void | Promise<void>>
  /** closed in order by app.close(), after the server has stopped and the last request has ended */
  release?: Array<() => Promise<void>>
  logger?: boolean | Record<string, unknown>
  /** the body guard's clock (body deadline and pace); the system clock by default */
  clock?: Clock
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
      // requestTimeout backs up the body guard for bodies nobody reads (a GET's), closing the connection
      const common = {
        maxHeaderSize: config.limits.headerBytes,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: HEADERS_TIMEOUT_MS + config.limits.bodyTimeoutMs,
        connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.limits.bodyTimeoutMs / 2))),
        keepAliveTimeout: 5_000
      }
      // an https.Server is an http.Server to Fastify; typed as one so the instance keeps default types
      if (!tls) return createHttpServer(common, handler)
      const server = createHttpsServer({ ...tls, ...common }, handler)
      refusePlainHttp(server)
      return server as unknown as Server
    }
  })

  app.setErrorHandler(errorHandler)
  // the request context (pipeline/context.ts): set by the first onRequest hook below, so only an
  // error raised before routing sees it null
  app.decorateRequest('gh', null, [])
  // onClose hooks run once the server is closed and its last request has ended
  const release = deps.release ?? []
  app.addHook('onClose', async () => { for (const close of release) await close() })

  // --- request edge: connection caps, body pace and per-source bytes (src/pipeline/body-guard.ts)
  limitConnections(app.server, { ...config.limits, exempt: (ip) => trusted.some((c) => cidrContains(c, ip)) })
  // closing closes the connections idle at that moment; one whose response still runs would stay
  // open for keepAliveTimeout after it ends, holding the close (and a draining process) that long.
  // Node arms that timer when a response ends, reading the server's setting then: once closing,
  // each connection is closed as soon as its response is done, at no cost to any request before
  app.addHook('preClose', async () => { app.server.keepAliveTimeout = 1 })
  const bodyGuard = createBodyGuard(config.limits, deps.clock ?? systemClock)
  app.addHook('preParsing', bodyGuard.preParsing)
  app.addHook('onSend', bodyGuard.closeWhenBodyUnread)
  app.addHook('onClose', async () => { bodyGuard.close() })
  // --- end request edge

  app.addHook('onRequest', async (request, reply) => {
    const xff = trusted.length > 0 ? request.headers['x-forwarded-for'] : undefined
    request.gh = newRequestContext(request.id, resolveSourceIp(request.raw.socket.remoteAddress, xff, trusted))
    reply.header('x-request-id', request.id)
    if (!isCanonicalPath(request.raw.url ?? '')) throw new errors.ROUTE_NOT_FOUND()
    // answered from the headers: an unrouted request's body is never read
    if (request.is404) return unrouted(request, reply)
  })
  const onResponse = deps.onResponse ?? []
  app.addHook('onResponse', async (request, reply) => { for (const hook of onResponse) await hook(request, reply) })

  const knownPaths = knownPathMatchers()
  const unrouted = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { path } = splitTarget(request.raw.url ?? '')
    const known = knownPaths.find((k) => k.test(path))
    if (known) {
      reply.header('allow', known.methods.join(', '))
      return sendError(request, reply, 405, 'method not allowed', 'GH_ERR_METHOD_NOT_ALLOWED')
    }
    return sendError(request, reply, 404, 'not found', 'GH_ERR_ROUTE_NOT_FOUND')
  }
  app.setNotFoundHandler(unrouted)

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
        onRequest: [async (request) => { request.gh.route = route }, ...deps.headerGuards],
        preHandler: deps.guards,
        handler: forward
      })
    }
  })

  return app
}
