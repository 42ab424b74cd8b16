// Upstream failures are never silent: refused → 502, no headers in time → 504, a stalled or
// dying stream ends with an error line in the route's framing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => {
  gw = await startTestGateway({ upstream: { url: 'http://127.0.0.1:1', connectTimeoutMs: 1000, headersTimeoutMs: 300, idleTimeoutMs: 300 } })
})
afterAll(async () => { await gw.close() })

describe('upstream refused', () => {
  it('is 502 in the native shape', async () => {
    const res = await call(gw, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(res.status).toBe(502)
    expect(res.json).toEqual({ error: 'upstream Ollama is unavailable' })
  })
  it('is 502 in the OpenAI shape on /v1', async () => {
    const res = await call(gw, 'GET', '/v1/models')
    expect(res.status).toBe(502)
    expect(res.json).toMatchObject({ error: { message: 'upstream Ollama is unavailable', type: 'api_error' } })
  })
  it('/readyz is 503 naming ollama', async () => {
    const res = await call(gw, 'GET', '/readyz')
    expect(res.status).toBe(503)
    expect(res.json).toMatchObject({ failing: ['ollama'] })
  })
})

describe('slow and dying upstreams', () => {
  let slow: TestGateway
  beforeAll(async () => {
    slow = await startTestGateway({ upstream: { connectTimeoutMs: 1000, headersTimeoutMs: 300, idleTimeoutMs: 300 } })
    // the helper points upstream.url at its own fake when the override has no url
  })
  afterAll(async () => { await slow.close() })

  it('no first byte before headersTimeoutMs is 504', async () => {
    slow.fake.script = { ...defaultScript(), delayHeadersMs: 1000 }
    const res = await call(slow, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }) })
    expect(res.status).toBe(504)
    expect(res.json).toEqual({ error: 'upstream Ollama timed out' })
  })
  it('a gap over idleTimeoutMs ends an NDJSON stream with an error line', async () => {
    slow.fake.script = { ...defaultScript(), stopAfter: { chunks: 2, how: 'hang' } }
    const res = await call(slow, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }) })
    expect(res.status).toBe(200)
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(3)
    expect(lines[2]).toEqual({ error: expect.stringContaining('idle timeout') })
  })
  it('an upstream that dies mid-stream ends an SSE stream with an error event', async () => {
    slow.fake.script = { ...defaultScript(), stopAfter: { chunks: 1, how: 'destroy' } }
    const res = await call(slow, 'POST', '/v1/chat/completions', { body: JSON.stringify({ model: 'llama3.2', stream: true, messages: [] }) })
    const events = res.text.split('\n\n').filter(Boolean)
    expect(events.at(-1)).toMatch(/^data: \{"error":\{"message":"upstream Ollama connection failed mid-stream"/)
    expect(res.text).not.toContain('[DONE]')
  })
  it('an upstream HTTP error passes through with its status and body', async () => {
    slow.fake.script = { ...defaultScript(), fail: { status: 500, error: 'llama runner process has terminated' } }
    const res = await call(slow, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(res.status).toBe(500)
    expect(res.json).toEqual({ error: 'llama runner process has terminated' })
  })
  it('an unknown model is Ollama\'s 404 in its own shape', async () => {
    slow.fake.script = defaultScript()
    const res = await call(slow, 'POST', '/api/chat', { body: JSON.stringify({ model: 'nope', messages: [] }) })
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ error: "model 'nope' not found" })
  })
})
