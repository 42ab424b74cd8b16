import { describe, expect, test, vi } from 'vitest'
import { createReplyObserver, extractUsage, observeDocument, type TokenUsage } from '../../../src/ollama/usage.js'

function observe (kind: Parameters<typeof createReplyObserver>[0], framing: Parameters<typeof createReplyObserver>[1], chunks: string[]) {
  const obs = { usage: { input: null as number | null, output: null as number | null } as TokenUsage }
  const stage = createReplyObserver(kind, framing, obs)
  const out = chunks.map((c) => stage.push(Buffer.from(c)))
  const rest = stage.end()
  if (rest.length > 0) out.push(rest)
  return { obs, out }
}

describe('extractUsage', () => {
  test('Ollama closing line', () => {
    expect(extractUsage('generate', { done: true, prompt_eval_count: 3, eval_count: 5 })).toEqual({ input: 3, output: 5 })
    expect(extractUsage('chat', { done: false, eval_count: 5 })).toBeNull()
    expect(extractUsage('embed', { embeddings: [], prompt_eval_count: 4 })).toEqual({ input: 4, output: null })
  })
  test('OpenAI usage block', () => {
    expect(extractUsage('openai-chat', { usage: { prompt_tokens: 1, completion_tokens: 2 } })).toEqual({ input: 1, output: 2 })
    expect(extractUsage('openai-embed', { usage: { prompt_tokens: 7, total_tokens: 7 } })).toEqual({ input: 7, output: null })
    expect(extractUsage('openai-chat', { choices: [] })).toBeNull()
  })
  test('absent or malformed counts are null', () => {
    expect(extractUsage('generate', { done: true })).toBeNull()
    expect(extractUsage('generate', { done: true, eval_count: -1, prompt_eval_count: '3' })).toBeNull()
    expect(extractUsage('tags', { done: true, eval_count: 1 })).toBeNull()
  })
})

describe('createReplyObserver', () => {
  test('forwards every chunk unchanged and records usage from a split closing line', async () => {
    const chunks = ['{"response":"a","done":false}\n{"response":"","done":true,"prompt_eval_', 'count":12,"eval_count":34}\n']
    const { obs, out } = observe('generate', 'ndjson', chunks)
    expect(out.map((b) => b.toString())).toEqual(chunks)
    expect(obs.usage).toMatchObject({ input: 12, output: 34 })
  })
  test('SSE usage chunk', async () => {
    const { obs } = observe('openai-chat', 'sse', ['data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3}}\n\ndata: [DONE]\n\n'])
    expect(obs.usage).toMatchObject({ input: 2, output: 3 })
  })
  test('JSON document (not streamed)', () => {
    const usage = { input: null as number | null, output: null as number | null }
    observeDocument('openai-completion', Buffer.from('{"usage":{"prompt_tokens":5,"completion_tokens":6}}'), usage)
    expect(usage).toEqual({ input: 5, output: 6 })
  })
  test('only frames that carry counts are parsed (per-chunk cost), with the same usage recorded', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ response: `t${i} `, done: false }) + '\n')
    const events = Array.from({ length: 200 }, (_, i) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `t${i}` } }] })}\n\n`)
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const a = observe('chat', 'ndjson', [...lines, '{"done":true,"prompt_eval_count":3,"eval_count":4}\n'])
      expect(a.obs.usage).toMatchObject({ input: 3, output: 4 })
      const b = observe('openai-chat', 'sse', [...events, 'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6}}\n\n', 'data: [DONE]\n\n'])
      expect(b.obs.usage).toMatchObject({ input: 5, output: 6 })
      expect(parse.mock.calls.length).toBe(2)
    } finally {
      parse.mockRestore()
    }
  })
  test('garbage never breaks the pass-through', async () => {
    const chunks = ['not json\n', '\u0000\u0001\n']
    const { obs, out } = observe('chat', 'ndjson', chunks)
    expect(out.map((b) => b.toString())).toEqual(chunks)
    expect(obs.usage).toMatchObject({ input: null, output: null })
  })
  test('a stream cut short before its closing line: no counts, but its content frames are counted (a token each)', async () => {
    const lines = ['{"response":"a","done":false}\n', '{"response":"b","done":false}\n', '{"response":"c","done":false}\n']
    const { obs } = observe('generate', 'ndjson', lines)
    expect(obs.usage).toEqual({ input: null, output: null, frames: 3 })
    const sse = observe('openai-chat', 'sse', ['data: {"choices":[{"delta":{"content":"x"}}]}\n\n', 'data: [DONE]\n\n'])
    expect(sse.obs.usage.frames).toBe(1)
  })
})
