// Non-streamed replies ("stream": false): one JSON document per reply.
import { describe, expect, test } from 'vitest'
import { engine, newObs, tokenTypes } from './helpers.js'
import { MASKED_KINDS, TEXT_FREE_KINDS } from '../../../src/masking/index.js'

const e = engine()
type Obj = Record<string, unknown>
const run = async (kind: Parameters<typeof e.maskDocument>[0], doc: Obj): Promise<{ obj: Obj, obs: ReturnType<typeof newObs> }> => {
  const obs = newObs()
  const out = e.maskDocument(kind, Buffer.from(JSON.stringify(doc)), obs)
  return { obj: JSON.parse(out.toString('utf8')) as Obj, obs }
}

describe('non-streamed documents', () => {
  test('/api/generate: response and thinking masked, context dropped, usage read', async () => {
    const { obj, obs } = await run('generate', {
      model: 'm', response: 'ssn 123-45-6789', thinking: 'mail a@b.io', done: true, context: [1, 2], prompt_eval_count: 3, eval_count: 4
    })
    expect(tokenTypes(obj.response as string)).toEqual(['SSN'])
    expect(tokenTypes(obj.thinking as string)).toEqual(['EMAIL'])
    expect(obj).not.toHaveProperty('context')
    expect(obj).toMatchObject({ model: 'm', done: true })
    expect(obs).toEqual({ masked: { ssn: 1, email: 1 }, usage: { input: 3, output: 4 } })
  })

  test('/api/chat: message content and tool-call arguments masked', async () => {
    const { obj } = await run('chat', {
      model: 'm', done: true,
      message: { role: 'assistant', content: 'call +44 20 7946 0958', tool_calls: [{ function: { name: 'f', arguments: { iban: 'GB82WEST12345698765432' } } }] }
    })
    const msg = obj.message as Obj
    expect(tokenTypes(msg.content as string)).toEqual(['PHONE'])
    expect(tokenTypes(JSON.stringify(msg.tool_calls))).toEqual(['IBAN'])
  })

  test('/v1/chat/completions: choices[].message content, reasoning and tool-call JSON arguments masked; logprobs dropped', async () => {
    const { obj, obs } = await run('openai-chat', {
      id: 'c', object: 'chat.completion', choices: [
        { index: 0, message: { role: 'assistant', content: 'ssn 123-45-6789', reasoning: 'x@y.org', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"card":"4111 1111 1111 1111"}' } }] }, logprobs: null, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: 'nothing here' }, finish_reason: 'stop' }
      ], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }
    })
    const [c0, c1] = obj.choices as Obj[]
    const m0 = c0?.message as Obj
    expect(tokenTypes(m0.content as string)).toEqual(['SSN'])
    expect(tokenTypes(m0.reasoning as string)).toEqual(['EMAIL'])
    const args = JSON.parse(((m0.tool_calls as Obj[])[0]?.function as Obj).arguments as string) as Obj
    expect(tokenTypes(args.card as string)).toEqual(['CREDIT_CARD'])
    expect(c0).not.toHaveProperty('logprobs')
    expect((c1?.message as Obj).content).toBe('nothing here')
    expect(obs.usage).toEqual({ input: 1, output: 2 })
  })

  test('/v1/completions: choices[].text masked', async () => {
    const { obj } = await run('openai-completion', { id: 'c', choices: [{ index: 0, text: 'ip 10.1.2.3', finish_reason: 'stop' }] })
    expect(tokenTypes((obj.choices as Obj[])[0]?.text as string)).toEqual(['IPV4'])
  })

  test('error documents keep their shape with the message masked', async () => {
    expect((await run('generate', { error: 'no model for 123-45-6789' })).obj).toEqual({ error: expect.stringMatching(/^no model for \[MASKED_SSN_/) })
    expect((await run('openai-chat', { error: { message: 'a@b.io', type: 'x' } })).obj).toEqual({ error: { message: expect.stringMatching(/^\[MASKED_EMAIL_/), type: 'x' } })
  })
})

describe('text-free kinds', () => {
  test('an embeddings reply with no text to mask comes out byte for byte; every kind is classified', async () => {
    const raw = '{"model":"m","embeddings":[[0.1,-2e-7]],"prompt_eval_count":5}'
    const obs = newObs()
    const out = e.maskDocument('embed', Buffer.from(raw), obs)
    expect(out.toString('utf8')).toBe(raw)
    expect(obs.usage).toEqual({ input: 5, output: null })
    for (const k of ['generate', 'chat', 'openai-chat', 'openai-completion', 'embed', 'openai-embed', 'tags', 'ps', 'openai-models', 'openai-model', 'progress', 'show', 'plain'] as const) {
      expect(MASKED_KINDS.has(k) !== TEXT_FREE_KINDS.has(k), k).toBe(true)
    }
  })
  test('a kind the masker has not classified is refused, streamed or not (never passed through)', () => {
    expect(() => e.maskDocument('future-kind' as never, Buffer.from('{"response":"123-45-6789"}'), newObs())).toThrow(expect.objectContaining({ code: 'GH_ERR_UPSTREAM_BAD_REPLY' }))
    expect(() => e.replyStage('future-kind' as never, 'ndjson', newObs())).toThrow(expect.objectContaining({ code: 'GH_ERR_UPSTREAM_BAD_REPLY' }))
  })
})
