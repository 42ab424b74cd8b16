// Security: what crosses the proxy. Host is the upstream's; the client's credentials, cookies and
// X-Forwarded-* never reach Ollama; oversize and malformed requests stop at the gateway.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/raw-http.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ limits: { bodyBytes: 4096, headerBytes: 4096 } }) })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.fake.reset() })

describe('forwarded request headers', () => {
  it('Host is rewritten to the upstream and client credentials, cookies and X-Forwarded-* are removed', async () => {
    const res = await call(gw, 'POST', '/api/show', {
      body: JSON.stringify({ model: 'llama3.2' }),
      headers: {
        'content-type': 'application/json', cookie: '__Host-gatehouse=abc',
        'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil', 'x-forwarded-proto': 'http', forwarded: 'for=6.6.6.6',
        'x-real-ip': '6.6.6.6', 'proxy-authorization': 'Basic eDp5'
      }
    })
    expect(res.status).toBe(200)
    const h = gw.fake.received[0]?.headers ?? {}
    expect(h.host).toBe(new URL(gw.fake.url).host)
    for (const name of ['authorization', 'cookie', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-real-ip', 'proxy-authorization']) {
      expect(h[name], name).toBeUndefined()
    }
  })

  it('a Connection header naming gateway-set headers cannot strip them', async () => {
    const body = JSON.stringify({ model: 'llama3.2' })
    const res = await rawRequest(gw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nConnection: close, host, x-request-id, content-length\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { ca: gw.certs.ca })
    expect(res.status).toBe(200)
    const h = gw.fake.received[0]?.headers ?? {}
    expect(h.host).toBe(new URL(gw.fake.url).host)
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(gw.fake.received[0]?.json).toEqual({ model: 'llama3.2' })
  })

  it('the forwarded body is the re-serialized JSON, not the bytes the client sent', async () => {
    await call(gw, 'POST', '/api/show', { body: '  {"model" : "llama3.2" }  ' })
    expect(gw.fake.received[0]?.body.toString()).toBe('{"model":"llama3.2"}')
  })
})

describe('limits and malformed requests stop at the gateway', () => {
  it('a body over limits.bodyBytes is 413 and never reaches Ollama', async () => {
    const res = await call(gw, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'x'.repeat(5000) }), headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(413)
    expect(res.json).toEqual({ error: 'request body is too large' })
    expect(gw.fake.received).toHaveLength(0)
  })
  it('a body over the limit sent chunked is 413 too', async () => {
    const big = 'x'.repeat(5000)
    const res = await rawRequest(gw.port, `POST /api/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`, { ca: gw.certs.ca })
    expect(res.status).toBe(413)
    expect(gw.fake.received).toHaveLength(0)
  })
  it('headers over limits.headerBytes are 431', async () => {
    const res = await rawRequest(gw.port, `GET /api/version HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nX-Big: ${'a'.repeat(5000)}\r\nConnection: close\r\n\r\n`, { ca: gw.certs.ca })
    expect(res.status).toBe(431)
    expect(gw.fake.received).toHaveLength(0)
  })
  it('malformed JSON is 400 in the native shape', async () => {
    const res = await call(gw, 'POST', '/api/chat', { body: '{"model": "llama3.2",' })
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ error: 'request body is not valid JSON' })
    expect(gw.fake.received).toHaveLength(0)
  })
  it('malformed JSON on /v1 is 400 in the OpenAI shape', async () => {
    const res = await call(gw, 'POST', '/v1/chat/completions', { body: 'nope' })
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ error: { message: 'request body is not valid JSON', type: 'invalid_request_error' } })
  })
  it('a JSON body that is not an object is 400', async () => {
    const res = await call(gw, 'POST', '/api/chat', { body: '["llama3.2"]' })
    expect(res.status).toBe(400)
    expect(gw.fake.received).toHaveLength(0)
  })
  it('Content-Length together with Transfer-Encoding (smuggling) is 400', async () => {
    const res = await rawRequest(gw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /api/pull HTTP/1.1\r\nHost: x\r\n\r\n`, { ca: gw.certs.ca })
    expect(res.status).toBe(400)
    expect(gw.fake.received).toHaveLength(0)
  })
  it('duplicate Content-Length headers are 400', async () => {
    const res = await rawRequest(gw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: 2\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{}`, { ca: gw.certs.ca })
    expect(res.status).toBe(400)
    expect(gw.fake.received).toHaveLength(0)
  })
  it('an obfuscated Transfer-Encoding is 400', async () => {
    const res = await rawRequest(gw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nTransfer-Encoding: xchunked\r\nConnection: close\r\n\r\n{}`, { ca: gw.certs.ca })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(gw.fake.received).toHaveLength(0)
  })
})

describe('request ids and health', () => {
  it('every reply carries X-Request-Id, errors included, unique per request', async () => {
    const a = await call(gw, 'GET', '/api/version')
    const b = await call(gw, 'GET', '/nope')
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id'])
  })
  it('a client-sent X-Request-Id is not trusted', async () => {
    const a = await call(gw, 'GET', '/api/version', { headers: { 'x-request-id': 'forged-id' } })
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
  it('/healthz answers 200 and /readyz 200 while Ollama answers', async () => {
    expect((await call(gw, 'GET', '/healthz')).status).toBe(200)
    expect((await call(gw, 'GET', '/readyz')).status).toBe(200)
  })
})
