// Security regression: through the gateway, with masking on, no reply field passes unexamined:
// /api/show's system prompt, template, license, Modelfile, parameters, messages and model_info, a
// streamed line's done_reason and tool-call names, extra fields of /api/embed, SSE id lines, and a
// `format: json` answer whose values the model wrote as JSON escapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

const RAW = ['6789', 'a@b.io', 'bob.smith']
const TOKEN = /\[MASKED_[A-Z_]+_[0-9a-f]{8}\]/
const reply = async (path: string, body: Record<string, unknown>, contentType: string, text: string) => {
  gw.fake.script = { ...defaultScript(), rawReply: { contentType, body: text } }
  return await call(gw, 'POST', path, { body: JSON.stringify({ model: 'llama3.2', ...body }) })
}
const clean = (text: string): void => { for (const r of RAW) expect(text).not.toContain(r) }

describe('masking on: every text field of every reply', () => {
  it('/api/show: system, template, license, modelfile, parameters, messages and model_info are masked', async () => {
    const show = {
      license: 'mail a@b.io', modelfile: 'SYSTEM ssn 123-45-6789', parameters: 'stop "a@b.io"', template: '{{ .Prompt }} 123-45-6789',
      system: 'You are 123-45-6789', messages: [{ role: 'user', content: 'a@b.io' }], details: { family: 'llama' },
      model_info: { 'general.author': 'a@b.io', 'general.parameter_count': 8030261248 }, capabilities: ['completion']
    }
    const res = await reply('/api/show', {}, 'application/json; charset=utf-8', JSON.stringify(show))
    expect(res.status).toBe(200)
    clean(res.text)
    const o = res.json as Record<string, unknown>
    for (const k of ['license', 'modelfile', 'parameters', 'template', 'system']) expect(String(o[k]), k).toMatch(TOKEN)
    expect(o).toMatchObject({ details: { family: 'llama' }, model_info: { 'general.parameter_count': 8030261248 }, capabilities: ['completion'] })
  })

  it('streamed /api/chat: done_reason and tool-call names are masked', async () => {
    const lines = [
      { model: 'llama3.2', created_at: 't', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'a@b.io', arguments: {} } }] }, done: false },
      { model: 'llama3.2', created_at: 't', message: { role: 'assistant', content: '' }, done: true, done_reason: '123-45-6789', eval_count: 3 }
    ]
    const res = await reply('/api/chat', { messages: [{ role: 'user', content: 'hi' }] }, 'application/x-ndjson', lines.map((l) => JSON.stringify(l) + '\n').join(''))
    clean(res.text)
    const out = res.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(out.at(-1)).toMatchObject({ done: true, eval_count: 3, done_reason: expect.stringMatching(TOKEN) })
  })

  it('/api/embed: the vectors pass, extra text fields are masked', async () => {
    const res = await reply('/api/embed', { input: 'x' }, 'application/json; charset=utf-8', JSON.stringify({ model: 'llama3.2', embeddings: [[0.25, -1]], note: 'a@b.io' }))
    clean(res.text)
    expect(res.json).toMatchObject({ model: 'llama3.2', embeddings: [[0.25, -1]], note: expect.stringMatching(TOKEN) })
  })

  it('SSE: an id line carrying a value is masked', async () => {
    const res = await reply('/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'text/event-stream',
      'id: 123-45-6789\ndata: {"choices":[{"index":0,"delta":{"content":"ok "},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    clean(res.text)
    expect(res.text).toMatch(/^id: \[MASKED_SSN_[0-9a-f]{8}\]\n/)
  })

  it('a `format: json` answer with JSON-escaped values: what the client parses is masked', async () => {
    const answer = '{"email":"bob.smith\\u0040example.com","ssn":"123\\u002d45\\u002d6789"}'
    const res = await reply('/api/generate', { prompt: 'hi', format: 'json', stream: false }, 'application/json; charset=utf-8', JSON.stringify({ model: 'llama3.2', response: answer, done: true }))
    const parsed = JSON.parse((res.json as { response: string }).response) as Record<string, string>
    clean(JSON.stringify(parsed))
    expect(parsed.email).toMatch(/^\[MASKED_EMAIL_[0-9a-f]{8}\]$/)
    expect(parsed.ssn).toMatch(/^\[MASKED_SSN_[0-9a-f]{8}\]$/)
  })
})
