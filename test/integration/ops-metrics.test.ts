// GET /metrics over a real socket: refused without credentials (401) and without metrics:read
// (403), Prometheus text for a monitor, and the onResponse hook counts what the app answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { newRequestContext } from '../../src/pipeline/context.js'
import type { Identity } from '../../src/auth/identity.js'
import { errorHandler } from '../../src/pipeline/error-handler.js'
import { errors } from '../../src/errors.js'
import { createPolicy } from '../../src/rbac/policy.js'
import { DEFAULT_ROLES } from '../../src/config/schema.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { metricsRoute } from '../../src/ops/metrics-route.js'

const TOKENS: Record<string, Identity> = {
  'tok-monitor': { credential: 'api_key', name: 'prometheus', roles: ['monitor'], amr: [], credentialId: 'k1', expiresAt: null },
  'tok-user': { credential: 'session', name: 'alice', roles: ['user'], amr: ['pwd', 'otp'], credentialId: 's1', expiresAt: null }
}

let app: FastifyInstance
let base: string
const metrics = createMetrics({ defaultMetrics: false })

beforeAll(async () => {
  const policy = createPolicy(DEFAULT_ROLES as never)
  // a stand-in for the credential loaders; the route itself checks metrics:read
  const authenticate = async (request: FastifyRequest) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
    const identity = token ? TOKENS[token] : undefined
    if (!identity) throw new errors.AUTH_REQUIRED()
    request.gh.identity = identity
  }
  app = Fastify()
  app.setErrorHandler(errorHandler)
  app.addHook('onRequest', async (request) => { request.gh = newRequestContext(request.id, '127.0.0.1') })
  app.addHook('onResponse', metrics.onResponse)
  app.get('/healthz', async () => ({ status: 'ok' }))
  await app.register(metricsRoute(metrics, { authenticate, policy }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const a = app.server.address()
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`
})
afterAll(async () => { await app.close() })

describe('GET /metrics', () => {
  it('is 401 without credentials, with WWW-Authenticate', async () => {
    const r = await fetch(`${base}/metrics`)
    expect(r.status).toBe(401)
    expect(r.headers.get('www-authenticate')).toBe('Bearer')
    expect(await r.text()).not.toContain('gatehouse_')
  })

  it('is 403 for a role without metrics:read', async () => {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok-user' } })
    expect(r.status).toBe(403)
    expect(await r.json()).toEqual({ error: 'permission "metrics:read" required' })
  })

  it('serves Prometheus text to a monitor, counting the requests answered so far', async () => {
    await fetch(`${base}/healthz`)
    await fetch(`${base}/nope`)
    const r = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok-monitor' } })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(r.headers.get('cache-control')).toBe('no-store')
    const text = await r.text()
    expect(text).toMatch(/gatehouse_http_requests_total\{route="GET \/healthz",model="",status="200",role="",upstream=""\} 1/)
    expect(text).toMatch(/gatehouse_http_requests_total\{route="unmatched",model="",status="404",role="",upstream=""\} 1/)
    expect(text).toMatch(/gatehouse_http_requests_total\{route="GET \/metrics",model="",status="401",role="",upstream=""\} 1/)
    expect(text).toMatch(/gatehouse_http_requests_total\{route="GET \/metrics",model="",status="403",role="user",upstream=""\} 1/)
  })
})
