// Security regressions: no reply field passes unexamined. Every text-bearing field of every reply
// (tool-call names, done_reason, fields the masker has no rule for, at the top or nested, SSE id and
// event values, /api/embed and /api/show replies) is masked; known numbers and booleans pass as they
// are; a choice that carries its text in the other variant's field (`message` in a stream chunk,
// `delta` in a document, `text` in a chat choice) is a shape the masker cannot read: refused.
import { describe, expect, test } from 'vitest'
import { MASKED_KINDS } from '../../../src/masking/index.js'
import { PROXIED_ROUTES } from '../../../src/ollama/routes.js'
import { engine, newObs, runStage, tokenTypes } from './helpers.js'

const e = engine()
type Obj = Record<string, unknown>
type Kind = Parameters<typeof e.maskDocument>[0]
const REFUSED = 'upstream reply could not be processed'
const OPENAI_REFUSED = { error: { message: REFUSED, type: 'api_error', code: 'GH_ERR_UPSTREAM_BAD_REPLY' } }
const RAW = ['6789', 'a@b.io', '4111', '0123', 'x@y.io']

const ndjson = async (kind: Kind, lines: Obj[]): Promise<string> =>
  (runStage(e.replyStage(kind, 'ndjson', newObs()), [Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''))])).join('')
const sseRaw = async (kind: Kind, body: string): Promise<string> =>
  (runStage(e.replyStage(kind, 'sse', newObs()), [Buffer.from(body)])).join('')
const sse = async (kind: Kind, evs: Obj[]): Promise<string> =>
  await sseRaw(kind, evs.map((o) => `data: ${JSON.stringify(o)}\n\n`).join('') + 'data: [DONE]\n\n')
const lines = (out: string): Obj[] => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Obj)
const events = (out: string): Obj[] => out.split('\n\n').filter((s) => s.startsWith('data: ') && !s.includes('[DONE]')).map((s) => JSON.parse(s.slice(6)) as Obj)
const doc = (kind: Kind, o: unknown): Obj => JSON.parse(e.maskDocument(kind, Buffer.from(JSON.stringify(o)), newObs()).toString('utf8')) as Obj
const refusedDoc = (kind: Kind, o: unknown): void => {
  expect(() => e.maskDocument(kind, Buffer.from(JSON.stringify(o)), newObs()), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'GH_ERR_UPSTREAM_BAD_REPLY' }))
}
const expectClean = (out: string): void => { for (const r of RAW) expect(out).not.toContain(r) }

describe('native replies: every text field is masked', () => {
  const extra = { x_note: 'ssn 123-45-6789', x_obj: { deep: ['mail a@b.io', { k: 'call (212) 555-0123' }] }, 'x@y.io': 'key' }

  test('streamed generate: done_reason, model, unknown fields and unknown keys are masked; numbers and booleans pass', async () => {
    const out = await ndjson('generate', [
      { model: 'm', created_at: 't', response: 'hi ', done: false, ...extra },
      { model: 'm', response: '', done: true, done_reason: 'stop a@b.io', eval_count: 5500000000000004, total_duration: 5, ...extra }
    ])
    expectClean(out)
    const [first, last] = lines(out)
    expect(first).toMatchObject({ model: 'm', created_at: 't', response: 'hi ', done: false })
    expect(tokenTypes(String(first?.x_note))).toEqual(['SSN'])
    expect(tokenTypes(JSON.stringify(first?.x_obj))).toEqual(['EMAIL', 'PHONE'])
    expect(last).toMatchObject({ done: true, eval_count: 5500000000000004, total_duration: 5 })
    expect(tokenTypes(String(last?.done_reason))).toEqual(['EMAIL'])
  })

  test('streamed chat: tool-call function names, message fields and tool-call fields the masker has no rule for are masked', async () => {
    const out = await ndjson('chat', [
      { model: 'm', message: { role: 'assistant', content: '', x_m: 'a@b.io', tool_calls: [{ id: '123-45-6789', function: { name: 'a@b.io', index: 0, arguments: { q: 1 }, x_f: 'ssn 123-45-6789' }, x_t: 'a@b.io' }] }, done: false },
      { model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: '123-45-6789' }
    ])
    expectClean(out)
    const [first, last] = lines(out)
    const tc = ((first?.message as Obj).tool_calls as Obj[])[0] as Obj
    expect(tokenTypes(String((tc.function as Obj).name))).toEqual(['EMAIL'])
    expect((tc.function as Obj).index).toBe(0)
    expect((tc.function as Obj).arguments).toEqual({ q: 1 })
    expect(tokenTypes(String(tc.id))).toEqual(['SSN'])
    expect(tokenTypes(String(last?.done_reason))).toEqual(['SSN'])
  })

  test('documents: the same fields are masked', () => {
    const g = doc('generate', { model: 'm', response: 'ok', done: true, done_reason: 'a@b.io', prompt_eval_count: 12, ...extra })
    expectClean(JSON.stringify(g))
    expect(g).toMatchObject({ response: 'ok', done: true, prompt_eval_count: 12 })
    const c = doc('chat', { model: 'm', message: { role: 'assistant', content: 'ok', tool_name: 'a@b.io', tool_calls: [{ function: { name: '123-45-6789', arguments: {} } }] }, done: true, ...extra })
    expectClean(JSON.stringify(c))
    expect(c).toMatchObject({ message: { role: 'assistant', content: 'ok' }, done: true })
  })

  test('text in the other route\'s field (`response` on chat, `message` on generate) is refused', async () => {
    for (const [kind, line] of [
      ['chat', { model: 'm', response: 'ssn 123-45-6789', done: false }],
      ['generate', { model: 'm', message: { content: 'ssn 123-45-6789' }, done: false }]
    ] as const) {
      const out = await ndjson(kind, [line])
      expectClean(out)
      expect(lines(out), JSON.stringify(line)).toEqual([{ error: REFUSED }])
      refusedDoc(kind, { ...line, done: true })
    }
  })
})

describe('OpenAI replies: every text field is masked', () => {
  const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' }

  test('streamed chat: tool-call names, unknown fields at every level and usage extras are masked', async () => {
    const out = await sse('openai-chat', [
      { ...head, x_top: 'a@b.io', choices: [{ index: 0, x_c: '123-45-6789', delta: { role: 'assistant', x_d: 'a@b.io', tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'a@b.io', arguments: '' } }] }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls a@b.io' }], usage: { prompt_tokens: 5500000000000004, completion_tokens: 2, total_tokens: 3, x_u: { n: 'a@b.io' } } }
    ])
    expectClean(out)
    const evs = events(out)
    expect(evs[0]).toMatchObject({ ...head, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'c1', type: 'function' }] } }] })
    expect(evs[1]).toMatchObject({ usage: { prompt_tokens: 5500000000000004, completion_tokens: 2, total_tokens: 3 } })
    expect(tokenTypes(out)).toEqual(['EMAIL', 'SSN', 'EMAIL', 'EMAIL', 'EMAIL', 'EMAIL'])
  })

  test('a choice carrying text in the other variant\'s field is refused, streamed or not', async () => {
    for (const [kind, choice] of [
      ['openai-chat', { index: 0, message: { role: 'assistant', content: 'ssn 123-45-6789' } }],
      ['openai-chat', { index: 0, text: 'ssn 123-45-6789' }],
      ['openai-completion', { index: 0, delta: { content: 'ssn 123-45-6789' } }],
      ['openai-completion', { index: 0, message: { content: 'ssn 123-45-6789' } }]
    ] as const) {
      const out = await sse(kind, [{ ...head, choices: [choice] }])
      expectClean(out)
      expect(events(out), JSON.stringify(choice)).toEqual([OPENAI_REFUSED])
    }
    refusedDoc('openai-chat', { choices: [{ index: 0, delta: { content: 'ssn 123-45-6789' } }] })
    refusedDoc('openai-chat', { choices: [{ index: 0, text: 'ssn 123-45-6789' }] })
    refusedDoc('openai-completion', { choices: [{ index: 0, message: { content: 'ssn 123-45-6789' } }] })
    refusedDoc('openai-completion', { choices: [{ index: 0, delta: { content: 'ssn 123-45-6789' } }] })
  })

  test('documents: tool-call names, finish_reason, unknown fields are masked; known numbers pass', () => {
    const o = doc('openai-chat', {
      id: 'x', object: 'chat.completion', created: 7, model: 'm', system_fingerprint: 'fp', x_top: { a: 'a@b.io' },
      choices: [{ index: 0, finish_reason: 'a@b.io', message: { role: 'assistant', content: 'ok', x_m: '123-45-6789', tool_calls: [{ id: 't', type: 'function', function: { name: 'a@b.io', arguments: '{}' } }] } }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }
    })
    expectClean(JSON.stringify(o))
    expect(o).toMatchObject({ id: 'x', object: 'chat.completion', created: 7, model: 'm', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })
    const c = doc('openai-completion', { id: 'x', choices: [{ index: 0, text: 'ok', finish_reason: 'stop', x: 'a@b.io' }], x: ['123-45-6789'] })
    expectClean(JSON.stringify(c))
    expect(c).toMatchObject({ choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }] })
  })

  test('SSE id and event values are masked; a retry that is not a plain number of no entity is dropped', async () => {
    const out = await sseRaw('openai-chat', 'id: 123-45-6789\nevent: 4111-1111-1111-1111\nretry: 4111111111111111\ndata: {"choices":[]}\n\nid: 7\nretry: 100\ndata: [DONE]\n\n')
    expectClean(out)
    expect(out).toMatch(/^id: \[MASKED_SSN_[0-9a-f]{8}\]\nevent: \[MASKED_CREDIT_CARD_[0-9a-f]{8}\]\ndata: \{"choices":\[\]\}\n\nid: 7\nretry: 100\ndata: \[DONE\]\n\n$/)
  })
})

describe('embeddings and /api/show are masked too', () => {
  test('/api/embed and /api/embeddings: vectors pass, every text field is masked', () => {
    const o = doc('embed', { model: 'm', embeddings: [[0.1, -2e-7, 5500000000000004]], total_duration: 3, prompt_eval_count: 2, x_note: 'a@b.io', x_obj: { k: '123-45-6789' } })
    expectClean(JSON.stringify(o))
    expect(o).toMatchObject({ model: 'm', embeddings: [[0.1, -2e-7, 5500000000000004]], total_duration: 3, prompt_eval_count: 2 })
    const legacy = doc('embed', { embedding: [1, 2], x: 'a@b.io' })
    expectClean(JSON.stringify(legacy))
    expect(legacy.embedding).toEqual([1, 2])
    const strange = doc('embed', { embeddings: [['a@b.io']] })
    expectClean(JSON.stringify(strange))
  })

  test('/v1/embeddings: vectors pass, every text field is masked', () => {
    const o = doc('openai-embed', { object: 'list', model: 'm', data: [{ object: 'embedding', index: 0, embedding: [0.5], x: 'a@b.io' }], usage: { prompt_tokens: 2, total_tokens: 2 }, x: '123-45-6789' })
    expectClean(JSON.stringify(o))
    expect(o).toMatchObject({ object: 'list', model: 'm', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], usage: { prompt_tokens: 2, total_tokens: 2 } })
  })

  test('an embedding reply labelled as a stream is masked line by line', async () => {
    const out = await ndjson('embed', [{ model: 'm', embeddings: [[1]], x: 'a@b.io' }])
    expectClean(out)
    expect(lines(out)[0]).toMatchObject({ model: 'm', embeddings: [[1]] })
  })

  test('/api/show is its own reply kind, and a masked one', () => {
    expect(PROXIED_ROUTES.find((r) => r.id === 'POST /api/show')?.reply).toBe('show')
    expect(MASKED_KINDS.has('show')).toBe(true)
  })

  test('/api/show: system, template, license, modelfile, parameters, messages, model_info and unknown fields are masked; numbers pass', async () => {
    const show = {
      license: 'contact a@b.io', modelfile: 'SYSTEM ssn 123-45-6789', parameters: 'stop "a@b.io"', template: '{{ .Prompt }} a@b.io',
      system: 'You serve 123-45-6789', details: { format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8B', quantization_level: 'Q4_0' },
      model_info: { 'general.architecture': 'llama', 'general.parameter_count': 3212749888, 'general.author': 'a@b.io', 'tokenizer.ggml.tokens': ['a', '123-45-6789'] },
      messages: [{ role: 'user', content: 'mail a@b.io' }], capabilities: ['completion'], modified_at: '2025-01-01T00:00:00Z',
      tensors: [{ name: 'blk.0', type: 'Q4_0', shape: [4096, 4096] }], x_new: { y: 'a@b.io' }
    }
    const o = doc('show', show)
    expectClean(JSON.stringify(o))
    expect(o).toMatchObject({
      details: show.details, capabilities: ['completion'], modified_at: '2025-01-01T00:00:00Z', tensors: show.tensors,
      model_info: { 'general.architecture': 'llama', 'general.parameter_count': 3212749888 }
    })
    for (const k of ['license', 'modelfile', 'parameters', 'template', 'system']) expect(tokenTypes(String(o[k])).length, k).toBe(1)
    const streamed = await ndjson('show', [show])
    expectClean(streamed)
  })
})
