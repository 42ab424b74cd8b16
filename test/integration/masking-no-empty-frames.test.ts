// With masking on, a streamed reply sends no frame with empty text where Ollama sent text: the
// masker holds back what may be the start of a value, and the line that carried it is dropped
// instead of going out hollow. The held text comes out in a later line, the closing line and its
// counts are intact, and lines in which Ollama itself sent empty text are passed on as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

interface Line { done: boolean, response?: string, message?: { content?: string }, eval_count?: number }
const TOKENS = ['Write to ', 'bob', '.smith', '@exam', 'ple.com', ' today', '.']

describe('streams with masking on', () => {
  it('/api/chat: every line before the closing one carries text; the whole text and the counts arrive', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(r.status).toBe(200)
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Line)
    const last = lines.at(-1) as Line
    expect(last.done).toBe(true)
    for (const l of lines.slice(0, -1)) expect(l.message?.content, JSON.stringify(l)).not.toBe('')
    const text = lines.map((l) => l.message?.content ?? '').join('')
    expect(text).toMatch(/^Write to \[MASKED_EMAIL_[0-9a-f]{8}\] today\.$/)
    expect(last.eval_count).toBeTypeOf('number')
  })
  it('/api/generate: the same', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'hi' }) })
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Line)
    expect(lines.at(-1)?.done).toBe(true)
    for (const l of lines.slice(0, -1)) expect(l.response, JSON.stringify(l)).not.toBe('')
    expect(lines.map((l) => l.response ?? '').join('')).toMatch(/^Write to \[MASKED_EMAIL_[0-9a-f]{8}\] today\.$/)
  })
  it('a line in which Ollama sent empty text (a tool call) is passed on', async () => {
    const body = [
      { model: 'llama3.2', created_at: 't', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: {} } }] }, done: false },
      { model: 'llama3.2', created_at: 't', message: { role: 'assistant', content: '' }, done: true, eval_count: 3 }
    ].map((l) => JSON.stringify(l) + '\n').join('')
    gw.fake.script = { ...defaultScript(), rawReply: { contentType: 'application/x-ndjson', body } }
    const r = await call(gw, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
    expect(r.text.trim().split('\n')).toHaveLength(2)
  })
})

describe('OpenAI-compatible streams with masking on', () => {
  it('/v1/chat/completions: no chunk with an empty delta where Ollama sent text', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/v1/chat/completions', { body: JSON.stringify({ model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'hi' }] }) })
    expect(r.status).toBe(200)
    const chunks = r.text.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
      .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string, role?: string }, finish_reason: string | null }> })
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
    expect(text).toMatch(/^Write to \[MASKED_EMAIL_[0-9a-f]{8}\] today\.$/)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    for (const c of chunks) if (c.choices[0]?.finish_reason === null) expect(c.choices[0]?.delta.content, JSON.stringify(c)).not.toBe('')
  })
})
