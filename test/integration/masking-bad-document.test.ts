// Security regression: a non-streamed reply the masker cannot read is refused with a 502
// in the route's shape (GH_ERR_UPSTREAM_BAD_REPLY), not sent on with Ollama's 200 as if it were the
// reply, and none of its text reaches the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

const JSON_CT = 'application/json; charset=utf-8'
const ask = async (path: string, body: Record<string, unknown>, reply: string) => {
  gw.fake.script = { ...defaultScript(), rawReply: { contentType: JSON_CT, body: reply } }
  return await call(gw, 'POST', path, { body: JSON.stringify({ model: 'llama3.2', stream: false, ...body }) })
}

describe('masking on: a non-streamed reply the masker cannot read', () => {
  it('native routes: 502 {"error":…} for a document that does not parse or has text of another shape', async () => {
    for (const [path, reply] of [
      ['/api/generate', '{"model":"llama3.2","response":"ssn 123-45-6789","done":tr'],
      ['/api/generate', '{"model":"llama3.2","response":{"t":"ssn 123-45-6789"},"done":true}'],
      ['/api/chat', '{"model":"llama3.2","message":{"role":"assistant","content":["ssn 123-45-6789"]},"done":true}']
    ] as const) {
      const res = await ask(path, path === '/api/chat' ? { messages: [{ role: 'user', content: 'hi' }] } : { prompt: 'hi' }, reply)
      expect(res.status, reply).toBe(502)
      expect(res.json).toEqual({ error: 'upstream reply could not be processed' })
      expect(res.text).not.toContain('6789')
    }
  })

  it('OpenAI routes: 502 in the OpenAI error shape with the code', async () => {
    for (const [path, reply] of [
      ['/v1/chat/completions', '{"choices":[{"index":0,"message":{"role":"assistant","content":"a@b.io"'],
      ['/v1/completions', '{"choices":[{"index":0,"text":{"t":"a@b.io"}}]}']
    ] as const) {
      const res = await ask(path, path === '/v1/completions' ? { prompt: 'hi' } : { messages: [{ role: 'user', content: 'hi' }] }, reply)
      expect(res.status, reply).toBe(502)
      expect(res.json).toEqual({ error: { message: 'upstream reply could not be processed', type: 'api_error', code: 'GH_ERR_UPSTREAM_BAD_REPLY' } })
      expect(res.text).not.toContain('a@b.io')
    }
  })

  it('a readable document still passes masked with its status', async () => {
    const res = await ask('/api/generate', { prompt: 'hi' }, '{"model":"llama3.2","response":"ssn 123-45-6789","done":true,"context":[1,2]}')
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ response: expect.stringMatching(/^ssn \[MASKED_SSN_[0-9a-f]{8}\]$/), done: true })
    expect(res.json).not.toHaveProperty('context')
  })
})
