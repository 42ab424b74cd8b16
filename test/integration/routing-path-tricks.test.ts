// Security: only the listed routes reach Ollama, and no spelling of a path reaches a route it
// does not literally name. Every case asserts the status AND that the fake saw nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/raw-http.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })
beforeEach(() => { gw.fake.reset() })

const body = JSON.stringify({ model: 'llama3.2' })
const raw = (target: string, extraHeaders = '') =>
  rawRequest(gw.port, `POST ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${extraHeaders}Connection: close\r\n\r\n${body}`, { ca: gw.certs.ca })

describe('path tricks never reach a route they do not name', () => {
  const tricks: Array<[string, string]> = [
    ['dot-dot segment', '/api/chat/../pull'],
    ['encoded dot-dot', '/api/%2e%2e/pull'],
    ['encoded dot-dot after a real route', '/api/chat/%2e%2e/pull'],
    ['encoded slash', '/api%2Fpull'],
    ['encoded slash lower case', '/api%2fpull'],
    ['double leading slash', '//api/pull'],
    ['double inner slash', '/api//pull'],
    ['upper case', '/API/PULL'],
    ['mixed case', '/api/Pull'],
    ['trailing slash', '/api/pull/'],
    ['semicolon parameter', '/api/pull;x'],
    ['semicolon on an allowed route', '/api/chat;/../pull'],
    ['NUL byte', '/api/pull%00'],
    ['encoded NUL before a route', '/api/chat%00/../pull'],
    ['backslash', '/api\\pull'],
    ['dot segment', '/api/./pull'],
    ['absolute-form target', 'http://127.0.0.1:11434/api/pull'],
    ['absolute-form with an allowed path', 'https://localhost/api/chat'],
    ['asterisk-form', '*'],
    ['fragment that looks like a path', '/api/version#/../pull'],
    ['unknown route', '/api/unknown']
  ]
  for (const [name, target] of tricks) {
    it(`${name}: ${target} → 4xx, Ollama sees nothing`, async () => {
      const res = await raw(target)
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
      expect(gw.fake.received).toHaveLength(0)
    })
  }

  it('a query that looks like a path routes on the path only and is not forwarded', async () => {
    const res = await call(gw, 'GET', '/api/version?/../pull')
    expect(res.status).toBe(200)
    expect(gw.fake.received.map((r) => r.url)).toEqual(['/api/version'])
  })

  it('X-Original-URL, X-Rewrite-URL, X-Forwarded-Prefix and Forwarded do not change the route', async () => {
    const res = await raw('/api/show', 'X-Original-URL: /api/pull\r\nX-Rewrite-URL: /api/pull\r\nX-Forwarded-Prefix: /api/pull\r\nForwarded: for=1.2.3.4;host=evil\r\nX-HTTP-Method-Override: DELETE\r\n')
    expect(res.status).toBe(200)
    expect(gw.fake.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/show'])
  })
})

describe('unknown methods and paths', () => {
  it('a known path with a wrong method is 405 and names the allowed methods', async () => {
    const res = await call(gw, 'GET', '/api/pull')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('POST')
    expect(res.json).toEqual({ error: 'method not allowed' })
    expect(gw.fake.received).toHaveLength(0)
  })
  it('an unknown path is 404 in the native shape', async () => {
    const res = await call(gw, 'GET', '/api/unknown')
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ error: 'not found' })
  })
  it('an unknown /v1 path is 404 in the OpenAI shape', async () => {
    const res = await call(gw, 'POST', '/v1/responses', { body: '{}' })
    expect(res.status).toBe(404)
    expect(res.json).toMatchObject({ error: { message: 'not found', type: 'not_found_error' } })
  })
  it('every listed route reaches Ollama with the path from the route table', async () => {
    const res = await call(gw, 'GET', '/v1/models/llama3.2:latest')
    expect(res.status).toBe(200)
    expect(gw.fake.received.map((r) => r.url)).toEqual(['/v1/models/llama3.2:latest'])
  })
})
