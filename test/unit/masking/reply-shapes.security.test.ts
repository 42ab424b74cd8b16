// Security regressions: nothing the model wrote passes unmasked, whatever the reply's shape.
//  - an object carrying `error` goes out as a fresh `{ error }` only, never with its other fields;
//  - streamed tool-call arguments are masked as the JSON values they are, not as escaped JSON text;
//  - a known text field of another shape (a number, an object, a list), a choice list of another
//    shape, or an SSE line other than data/event/id/retry is refused, not passed through.
import { describe, expect, test } from 'vitest'
import { engine, newObs, runStage, tokenTypes } from './helpers.js'

const e = engine()
type Obj = Record<string, unknown>
const REFUSED = 'upstream reply could not be processed'
const RAW = ['6789', 'a@b.io', '4111', '0123', 'GB82', '98765432']

const ndjson = async (kind: 'generate' | 'chat', lines: Obj[]): Promise<string> =>
  (runStage(e.replyStage(kind, 'ndjson', newObs()), [Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''))])).join('')
const sseRaw = async (kind: 'openai-chat' | 'openai-completion', body: string): Promise<string> =>
  (runStage(e.replyStage(kind, 'sse', newObs()), [Buffer.from(body)])).join('')
const sse = async (kind: 'openai-chat' | 'openai-completion', events: Obj[]): Promise<string> =>
  await sseRaw(kind, events.map((o) => `data: ${JSON.stringify(o)}\n\n`).join('') + 'data: [DONE]\n\n')
const lines = (out: string): Obj[] => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Obj)
const events = (out: string): Obj[] => out.split('\n\n').filter((s) => s.startsWith('data: ') && !s.includes('[DONE]')).map((s) => JSON.parse(s.slice(6)) as Obj)
const doc = (kind: Parameters<typeof e.maskDocument>[0], o: unknown): Obj => JSON.parse(e.maskDocument(kind, Buffer.from(JSON.stringify(o)), newObs()).toString('utf8')) as Obj
const expectClean = (out: string): void => { for (const r of RAW) expect(out).not.toContain(r) }
const refusedDoc = (kind: Parameters<typeof e.maskDocument>[0], o: unknown): void => {
  expect(() => e.maskDocument(kind, Buffer.from(JSON.stringify(o)), newObs())).toThrow(expect.objectContaining({ code: 'GH_ERR_UPSTREAM_BAD_REPLY', statusCode: 502 }))
}

describe('an object carrying `error` is sent as { error } only', () => {
  test('NDJSON: response, context and message.content beside an error never pass', async () => {
    const gen = await ndjson('generate', [{ error: 'x', response: 'ssn 123-45-6789', context: [1, 2], done: true }])
    expect(lines(gen)).toEqual([{ error: 'x' }])
    const chat = await ndjson('chat', [{ error: 'failed for a@b.io', message: { role: 'assistant', content: 'card 4111 1111 1111 1111' }, context: [3] }])
    expectClean(chat)
    expect(chat).not.toContain('context')
    expect(lines(chat)).toEqual([{ error: expect.stringMatching(/^failed for \[MASKED_EMAIL_[0-9a-f]{8}\]$/) }])
  })

  test('NDJSON: held text is still flushed (masked) before the error line', async () => {
    const out = await ndjson('generate', [{ response: 'ssn 123-45-', done: false }, { error: 'x', response: '6789' }])
    expectClean(out)
    const ls = lines(out)
    expect(ls.at(-1)).toEqual({ error: 'x' })
    expect(ls.map((l) => l.response ?? '').join('')).toBe('ssn 123-45-')
  })

  test('SSE: an error with choices (even error: null) sends no choice text', async () => {
    const out = await sse('openai-chat', [{ error: null, choices: [{ index: 0, delta: { content: 'ssn 123-45-6789' } }] }])
    expectClean(out)
    expect(events(out)).toEqual([{ error: null }])
    const out2 = await sse('openai-completion', [{ error: { message: 'bad', detail: { note: 'mail a@b.io' } }, choices: [{ index: 0, text: 'call (212) 555-0123' }] }])
    expectClean(out2)
    expect(events(out2)).toEqual([{ error: { message: 'bad', detail: { note: expect.stringMatching(/^mail \[MASKED_EMAIL_/) } } }])
  })

  test('documents: native and OpenAI error documents carry nothing but the masked error', () => {
    expect(doc('generate', { error: 'x', response: 'ssn 123-45-6789', context: [1, 2] })).toEqual({ error: 'x' })
    expect(doc('chat', { error: 'x', message: { content: 'a@b.io' } })).toEqual({ error: 'x' })
    const o = doc('openai-chat', { error: null, choices: [{ index: 0, message: { role: 'assistant', content: 'ssn 123-45-6789' } }] })
    expect(o).toEqual({ error: null })
    const c = doc('openai-completion', { error: { message: 'card 4111 1111 1111 1111' }, choices: [{ text: 'a@b.io' }] })
    expectClean(JSON.stringify(c))
    expect(c).toEqual({ error: { message: expect.stringMatching(/^card \[MASKED_CREDIT_CARD_/) } })
  })
})

describe('tool-call arguments are masked as JSON values', () => {
  const head = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm' }
  const frag = (args: string, extra: Obj = {}): Obj => ({ ...head, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...extra, function: { ...(extra.function as Obj | undefined), arguments: args } }] }, finish_reason: null }] })
  const argsOf = (out: string): string => events(out).flatMap((ev) => (ev.choices as Obj[] | undefined) ?? [])
    .flatMap((c) => ((c.delta as Obj | undefined)?.tool_calls as Obj[] | undefined) ?? [])
    .map((t) => (t.function as Obj).arguments ?? '').join('')

  // each value follows a JSON escape (\n, \t): as escaped text the detector sees a letter before it
  const cases: Array<[string, string, string]> = [
    ['card after \\n', JSON.stringify({ note: 'pay\n4111 1111 1111 1111' }), 'CREDIT_CARD'],
    ['phone after \\t', JSON.stringify({ note: 'call\t+44 20 7946 0958' }), 'PHONE'],
    ['IBAN after \\n', JSON.stringify({ note: 'iban\nGB82WEST12345698765432' }), 'IBAN']
  ]
  for (const [name, args, type] of cases) {
    test(`streamed, split in fragments: ${name} is masked`, async () => {
      const cut = Math.floor(args.length / 2)
      const out = await sse('openai-chat', [
        frag(args.slice(0, cut), { id: 'call_1', type: 'function', function: { name: 'f' } }),
        frag(args.slice(cut)),
        { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }
      ])
      expectClean(out)
      expect(out).not.toContain('7946')
      const parsed = JSON.parse(argsOf(out)) as Obj
      expect(tokenTypes(parsed.note as string)).toEqual([type])
      // the call's id and name still go out with its first fragment
      expect(events(out)[0]).toMatchObject({ choices: [{ delta: { tool_calls: [{ id: 'call_1', function: { name: 'f' } }] } }] })
    })
  }

  test('streamed arguments with no finish_reason are released (masked) before [DONE]', async () => {
    const out = await sse('openai-chat', [frag(JSON.stringify({ n: 'x\n4111 1111 1111 1111' }))])
    expectClean(out)
    expect(tokenTypes(argsOf(out))).toEqual(['CREDIT_CARD'])
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true)
  })

  test('streamed arguments are released (masked) before an error event', async () => {
    const out = await sseRaw('openai-chat', `data: ${JSON.stringify(frag(JSON.stringify({ n: 'x\n4111 1111 1111 1111' })))}\n\ndata: {"error":{"message":"boom"}}\n\n`)
    expectClean(out)
    expect(tokenTypes(argsOf(out))).toEqual(['CREDIT_CARD'])
    expect(events(out).at(-1)).toEqual({ error: { message: 'boom' } })
  })

  test('a JSON string as the whole arguments is parsed, masked and re-serialized', () => {
    const o = doc('openai-chat', { choices: [{ message: { tool_calls: [{ function: { name: 'f', arguments: JSON.stringify('a\n4111 1111 1111 1111') } }] } }] })
    const args = ((((o.choices as Obj[])[0]?.message as Obj).tool_calls as Obj[])[0]?.function as Obj).arguments as string
    expectClean(args)
    expect(tokenTypes(JSON.parse(args) as string)).toEqual(['CREDIT_CARD'])
  })

  test('object keys are masked too: the model writes them', async () => {
    const o = doc('chat', { message: { content: '', tool_calls: [{ function: { name: 'f', arguments: { 'a@b.io': 1, '123-45-6789': { x: 1 } } } }] }, done: true })
    expectClean(JSON.stringify(o))
    expect(tokenTypes(JSON.stringify(o))).toEqual(['EMAIL', 'SSN'])
    const out = await sse('openai-chat', [frag(JSON.stringify({ 'a@b.io': 'v' })), { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }])
    expectClean(out)
    expect(tokenTypes(argsOf(out))).toEqual(['EMAIL'])
  })
})

describe('a reply shape the masker cannot read is refused', () => {
  test('NDJSON: a text field that is a number, an object or a list ends the stream with an error line', async () => {
    const bad: Array<['generate' | 'chat', Obj]> = [
      ['generate', { response: 4111111111111111, done: false }],
      ['generate', { response: { t: 'ssn 123-45-6789' }, done: false }],
      ['generate', { thinking: ['a@b.io'], done: false }],
      ['chat', { message: { content: { t: 'a@b.io' } }, done: false }],
      ['chat', { message: { thinking: ['a@b.io'] }, done: false }],
      ['chat', { message: 'a@b.io', done: false }],
      ['chat', { message: { content: '', tool_calls: ['a@b.io'] }, done: false }]
    ]
    for (const [kind, line] of bad) {
      const out = await ndjson(kind, [line, { response: '', done: true }])
      expectClean(out)
      expect(lines(out), JSON.stringify(line)).toEqual([{ error: REFUSED }])
    }
  })

  test('null text fields are fine', async () => {
    expect(lines(await ndjson('generate', [{ response: null, thinking: null, done: true }]))).toEqual([{ response: null, thinking: null, done: true }])
  })

  test('SSE: delta text of another shape, a choice list of another shape, or a choice that is not an object is refused', async () => {
    const bad: Array<['openai-chat' | 'openai-completion', Obj]> = [
      ['openai-chat', { choices: [{ index: 0, delta: { content: [{ type: 'text', text: 'a@b.io' }] } }] }],
      ['openai-chat', { choices: [{ index: 0, delta: { reasoning: { t: 'a@b.io' } } }] }],
      ['openai-chat', { choices: [{ index: 0, delta: { reasoning_content: 4111111111111111 } }] }],
      ['openai-chat', { choices: [{ index: 0, delta: { refusal: ['a@b.io'] } }] }],
      ['openai-chat', { choices: [{ index: 0, delta: 'a@b.io' }] }],
      ['openai-chat', { choices: { 0: { delta: { content: 'a@b.io' } } } }],
      ['openai-chat', { choices: ['a@b.io'] }],
      ['openai-completion', { choices: [{ index: 0, text: { t: 'a@b.io' } }] }]
    ]
    for (const [kind, ev] of bad) {
      const out = await sse(kind, [ev])
      expectClean(out)
      expect(out, JSON.stringify(ev)).not.toContain('[DONE]')
      expect(events(out)).toEqual([{ error: { message: REFUSED, type: 'api_error', code: 'GH_ERR_UPSTREAM_BAD_REPLY' } }])
    }
  })

  test('SSE: comment lines are dropped; event/id/retry lines kept; any other line refused', async () => {
    const ok = await sseRaw('openai-chat', ': a@b.io\n\nevent: message\nid: 7\nretry: 100\n: ssn 123-45-6789\ndata: {"choices":[]}\n\ndata: [DONE]\n\n')
    expectClean(ok)
    expect(ok).toBe('event: message\nid: 7\nretry: 100\ndata: {"choices":[]}\n\ndata: [DONE]\n\n')
    for (const line of ['foo: a@b.io', 'event: a@b.io', 'id: 123-45-6789 x', 'retry: soon a@b.io', 'data']) {
      const out = await sseRaw('openai-chat', `${line}\ndata: {"choices":[]}\n\ndata: [DONE]\n\n`)
      expectClean(out)
      expect(events(out), line).toEqual([{ error: { message: REFUSED, type: 'api_error', code: 'GH_ERR_UPSTREAM_BAD_REPLY' } }])
    }
  })

  test('documents: text of another shape is refused with UPSTREAM_BAD_REPLY', () => {
    refusedDoc('generate', { response: 4111111111111111, done: true })
    refusedDoc('generate', { thinking: { t: 'a@b.io' }, done: true })
    refusedDoc('chat', { message: { content: ['a@b.io'] }, done: true })
    refusedDoc('chat', { message: 'a@b.io', done: true })
    refusedDoc('openai-chat', { choices: [{ message: { content: { text: 'a@b.io' } } }] })
    refusedDoc('openai-chat', { choices: [{ message: { reasoning: 4111111111111111 } }] })
    refusedDoc('openai-chat', { choices: [{ message: { content: [{ type: 'text', text: 'ok' }, 'a@b.io'] } }] })
    refusedDoc('openai-chat', { choices: [{ message: { content: [{ type: 'text', text: { t: 'a@b.io' } }] } }] })
    refusedDoc('openai-chat', { choices: [{ message: { content: '', tool_calls: [{ function: 'a@b.io' }] } }] })
    refusedDoc('openai-chat', { choices: 'a@b.io' })
    refusedDoc('openai-completion', { choices: [{ text: ['a@b.io'] }] })
  })

  test('documents: message.content as text parts is still masked part by part; null content is kept', () => {
    const o = doc('openai-chat', { choices: [{ message: { role: 'assistant', content: [{ type: 'text', text: 'mail a@b.io' }, { type: 'text', text: 'ok' }] } }, { message: { content: null, refusal: null } }] })
    const [c0, c1] = o.choices as Obj[]
    const parts = (c0?.message as Obj).content as Obj[]
    expect(tokenTypes(parts[0]?.text as string)).toEqual(['EMAIL'])
    expect(parts[1]).toEqual({ type: 'text', text: 'ok' })
    expect((c1?.message as Obj).content).toBeNull()
  })
})
