// direction: both — prompts are masked before Ollama sees them.
import { describe, expect, test } from 'vitest'
import { engine, tokenTypes } from './helpers.js'

const e = engine()
const bytes = (body: unknown): Buffer => Buffer.from(JSON.stringify(body))
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, read field by field
const maskRequest = (kind: Parameters<typeof e.maskRequest>[0], body: unknown, counts: Record<string, number>): Record<string, any> =>
  JSON.parse(e.maskRequest(kind, bytes(body), counts).toString('utf8')) as Record<string, unknown>

describe('maskRequest', () => {
  test('/api/generate prompt and system; other fields untouched; the input is not modified', () => {
    const body = { model: 'm', prompt: 'my ssn is 123-45-6789', system: 'user a@b.io', options: { seed: 1 }, images: ['aGk='] }
    const counts: Record<string, number> = {}
    const out = maskRequest('generate', body, counts)
    expect(tokenTypes(out.prompt as string)).toEqual(['SSN'])
    expect(tokenTypes(out.system as string)).toEqual(['EMAIL'])
    expect(out.options).toEqual({ seed: 1 })
    expect(out.images).toEqual(['aGk='])
    expect(body.prompt).toBe('my ssn is 123-45-6789')
    expect(counts).toEqual({ ssn: 1, email: 1 })
  })

  test('keys are matched case-insensitively, as Ollama (Go encoding/json) reads them', () => {
    const out = maskRequest('generate', { model: 'm', PROMPT: '123-45-6789', \u017fystem: 'a@b.io' }, {})
    expect(JSON.stringify(out)).not.toContain('6789')
    expect(JSON.stringify(out)).not.toContain('a@b.io')
  })

  test('/api/chat and /v1/chat/completions messages, including text parts and tool calls', () => {
    const chat = maskRequest('chat', { model: 'm', messages: [{ role: 'user', content: 'card 4111 1111 1111 1111' }, { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { to: 'x@y.org' } } }] }] }, {})
    expect(JSON.stringify(chat)).not.toContain('4111')
    expect(JSON.stringify(chat)).not.toContain('x@y.org')
    const oai = maskRequest('openai-chat', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'ip 10.0.0.9' }, { type: 'image_url', image_url: { url: 'data:,' } }] }] }, {})
    const parts = (oai.messages as Array<{ content: Array<Record<string, unknown>> }>)[0]?.content
    expect(tokenTypes(parts?.[0]?.text as string)).toEqual(['IPV4'])
    expect(parts?.[1]).toEqual({ type: 'image_url', image_url: { url: 'data:,' } })
  })

  test('/v1/completions prompt (string or list) and embeddings input', () => {
    const c = maskRequest('openai-completion', { model: 'm', prompt: ['a 123-45-6789', 'b'] }, {})
    expect(tokenTypes((c.prompt as string[])[0] as string)).toEqual(['SSN'])
    const emb = maskRequest('embed', { model: 'm', input: 'x@y.org' }, {})
    expect(tokenTypes(emb.input as string)).toEqual(['EMAIL'])
    const oe = maskRequest('openai-embed', { model: 'm', input: ['x@y.org', 'z'] }, {})
    expect(tokenTypes((oe.input as string[])[0] as string)).toEqual(['EMAIL'])
  })

  test('members without masked text keep their bytes: no number is rounded, no escape rewritten', () => {
    const raw = '{"model":"m","prompt":"ssn 123-45-6789","options":{"seed":18446744073709551615,"t":1.0},"system":"caf\\u00e9 \\/ok"}'
    const out = e.maskRequest('generate', Buffer.from(raw), {}).toString('utf8')
    expect(out).not.toContain('123-45-6789')
    expect(out).toContain('"options":{"seed":18446744073709551615,"t":1.0}')
    expect(out).toContain('"system":"caf\\u00e9 \\/ok"')
    const clean = '{"model":"m","prompt":"hello","options":{"seed":18446744073709551615}}'
    expect(e.maskRequest('generate', Buffer.from(clean), {}).toString('utf8')).toBe(clean)
  })

  test('every member Go reads as a prompt field is masked, duplicates included', () => {
    const raw = '{"model":"m","prompt":"a 123-45-6789","Prompt":"b 123-45-6789","prompt":"c 123-45-6789"}'
    const counts: Record<string, number> = {}
    const out = e.maskRequest('generate', Buffer.from(raw), counts).toString('utf8')
    expect(out).not.toContain('6789')
    expect(counts).toEqual({ ssn: 3 })
  })

  test('kinds without prompt text are returned as they are', () => {
    const raw = Buffer.from('{"model":"m","prompt":"123-45-6789"}')
    expect(e.maskRequest('tags', raw, {})).toBe(raw)
  })
})
