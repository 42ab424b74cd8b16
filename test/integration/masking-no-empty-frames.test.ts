// With masking on, a streamed reply keeps one line (NDJSON) or chunk (SSE) per line Ollama sent:
// the stream's pacing is Ollama's (a client sees each frame when Ollama sends it; the gateway writes
// for every upstream chunk). A line whose text the masker still holds goes out with empty text; the
// held text arrives in a later line, the whole text is the masked text, and the closing line keeps
// its counts. docs/masking.md says why the line is not dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

interface Line { done: boolean, response?: string, message?: { content?: string }, eval_count?: number }
const TOKENS = ['Write to ', 'bob', '.smith', '@exam', 'ple.com', ' today', '.']
const MASKED = /^Write to \[MASKED_EMAIL_[0-9a-f]{8}\] today\.$/

describe('streams with masking on', () => {
  it('/api/chat: one line per upstream line, empty text only while the masker holds it, counts intact', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/api/chat', { body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(r.status).toBe(200)
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Line)
    expect(lines).toHaveLength(TOKENS.length + 1)
    const last = lines.at(-1) as Line
    expect(last).toMatchObject({ done: true })
    expect(last.eval_count).toBeTypeOf('number')
    expect(lines.map((l) => l.message?.content ?? '').join('')).toMatch(MASKED)
    // text is released in order: an empty line is followed, before the end, by the text it held
    const sent = lines.slice(0, -1).map((l) => l.message?.content ?? '')
    expect(sent.filter((t) => t !== '').length).toBeGreaterThan(0)
  })
  it('/api/generate: the same', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'hi' }) })
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Line)
    expect(lines).toHaveLength(TOKENS.length + 1)
    expect(lines.at(-1)?.done).toBe(true)
    expect(lines.map((l) => l.response ?? '').join('')).toMatch(MASKED)
  })
  it('/v1/chat/completions: one chunk per upstream chunk, the role on each, the masked text in order', async () => {
    gw.fake.script = { ...defaultScript(), tokens: TOKENS }
    const r = await call(gw, 'POST', '/v1/chat/completions', { body: JSON.stringify({ model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'hi' }] }) })
    expect(r.status).toBe(200)
    const chunks = r.text.split('\n\n').filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
      .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string, role?: string }, finish_reason: string | null }> })
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toMatch(MASKED)
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true)
  })
})
