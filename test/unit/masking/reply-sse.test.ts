// OpenAI-compatible SSE replies (/v1/chat/completions, /v1/completions) through the masking transform.
import { describe, expect, test } from 'vitest'
import { cutBytes, engine, newObs, runStage, tokenTypes } from './helpers.js'

const e = engine()
type Obj = Record<string, unknown>
const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', system_fingerprint: 'fp_ollama' }
const ev = (o: Obj): string => `data: ${JSON.stringify(o)}\n\n`
const chunk = (choices: Obj[], extra: Obj = {}): string => ev({ ...head, choices, ...extra })
const delta = (index: number, d: Obj, finish: string | null = null): Obj => ({ index, delta: d, finish_reason: finish })

function events (out: string[]): Array<Obj | '[DONE]'> {
  return out.join('').split('\n\n').filter((s) => s.includes('data: ')).map((s) => {
    const data = s.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
    return data === '[DONE]' ? '[DONE]' : JSON.parse(data) as Obj
  })
}
function field (evs: Array<Obj | '[DONE]'>, choice: number, name: string): string {
  let s = ''
  for (const e of evs) {
    if (e === '[DONE]') continue
    for (const c of (e.choices as Obj[] | undefined) ?? []) {
      if (c.index !== choice) continue
      const d = (c.delta ?? c) as Obj
      if (typeof d[name] === 'string') s += d[name] as string
    }
  }
  return s
}

describe('/v1/chat/completions SSE', () => {
  const body = Buffer.from(
    chunk([delta(0, { role: 'assistant', content: 'SSN 123-' }), delta(1, { content: 'mail jo@ex' })]) +
    chunk([delta(0, { content: '45-6789, card 5500-0000-' }), delta(1, { content: 'ample.com ok' })]) +
    chunk([delta(0, { reasoning: 'ip 10.0.0.1' })]) +
    chunk([delta(0, { content: '0000-0004' }, 'stop'), delta(1, {}, 'stop')]) +
    chunk([], { usage: { prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 } }) +
    'data: [DONE]\n\n')

  test('for every split position, each choice index is masked separately, equal to mask(whole), nothing leaks', async () => {
    for (let i = 0; i <= body.length; i += 3) {
      const obs = newObs()
      const out = runStage(e.replyStage('openai-chat', 'sse', obs), cutBytes(body, [i]))
      const all = out.join('')
      for (const raw of ['6789', '0004', 'jo@', '10.0.0.1']) expect(all).not.toContain(raw)
      const evs = events(out)
      expect(field(evs, 0, 'content')).toBe(e.maskText('SSN 123-45-6789, card 5500-0000-0000-0004'))
      expect(field(evs, 1, 'content')).toBe(e.maskText('mail jo@example.com ok'))
      expect(tokenTypes(field(evs, 0, 'reasoning'))).toEqual(['IPV4'])
      expect(evs.at(-1)).toBe('[DONE]')
      expect(obs.usage).toMatchObject({ input: 11, output: 22 })
      expect(obs.masked).toEqual({ ssn: 1, credit_card: 1, email: 1, ipv4: 1 })
    }
  })

  test('every other field is kept and logprobs dropped', async () => {
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from(
      chunk([{ ...delta(0, { role: 'assistant', content: 'Hi. ' }), logprobs: { content: [{ token: 'Hi' }] } }]) + 'data: [DONE]\n\n')])
    expect(events(out)[0]).toEqual({ ...head, choices: [delta(0, { role: 'assistant', content: 'Hi. ' })] })
  })

  test('streamed tool-call arguments are masked per call, across fragments', async () => {
    const tc = (args: string): Obj => ({ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: args } })
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from(
      chunk([delta(0, { tool_calls: [tc('{"ssn":"123-45')] })]) +
      chunk([delta(0, { tool_calls: [tc('-6789"}')] })], {}) +
      chunk([delta(0, {}, 'tool_calls')]) + 'data: [DONE]\n\n')])
    const all = out.join('')
    expect(all).not.toContain('6789')
    const args = events(out).flatMap((ev) => ev === '[DONE]' ? [] : (ev.choices as Obj[]))
      .flatMap((c) => ((c.delta as Obj).tool_calls as Obj[] | undefined) ?? [])
      .map((t) => (t.function as Obj).arguments).join('')
    expect(JSON.parse(args)).toEqual({ ssn: expect.stringMatching(/^\[MASKED_SSN_[0-9a-f]{8}\]$/) })
  })

  test('held text with no finish_reason is sent before [DONE]', async () => {
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from(chunk([delta(0, { content: 'n 42' })]) + 'data: [DONE]\n\n')])
    const evs = events(out)
    expect(field(evs, 0, 'content')).toBe('n 42')
    expect(evs.at(-1)).toBe('[DONE]')
    expect(evs).toHaveLength(3)
  })

  test('an SSE error event passes with its message masked', async () => {
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from(ev({ error: { message: 'bad key AKIAIOSFODNN7EXAMPLE', type: 'api_error' } }))])
    expect(events(out)).toEqual([{ error: { message: expect.stringMatching(/^bad key \[MASKED_SECRET_[0-9a-f]{8}\]$/), type: 'api_error' } }])
  })

  test('CRLF line endings and comment lines are understood (comments are dropped: their text is not checked)', async () => {
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from(
      ': keep-alive\r\n\r\n' + chunk([delta(0, { content: 'x 123-45-6789 y' }, 'stop')]).replace(/\n/g, '\r\n') + 'data: [DONE]\r\n\r\n')])
    expect(out.join('')).not.toContain('keep-alive')
    expect(tokenTypes(field(events(out), 0, 'content'))).toEqual(['SSN'])
  })
})

describe('/v1/completions SSE', () => {
  test('choices[].text is masked, split values never leak', async () => {
    const c = (text: string, finish: string | null = null): string =>
      ev({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, finish_reason: finish }] })
    const body = Buffer.from(c('key ghk_Zm9vYmFy') + c('YmF6cXV4MTIzNDU2Nzg5 and 4111') + c(' 1111 1111 1111', 'stop') + 'data: [DONE]\n\n')
    for (let i = 0; i <= body.length; i += 5) {
      const out = runStage(e.replyStage('openai-completion', 'sse', newObs()), cutBytes(body, [i]))
      expect(out.join('')).not.toContain('1111 1111')
      expect(out.join('')).not.toContain('YmF6')
      expect(field(events(out), 0, 'text')).toBe(e.maskText('key ghk_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5 and 4111 1111 1111 1111'))
    }
  })
})
