import { describe, expect, it } from 'vitest'
import { scanBody } from '../../../src/ollama/go-json.js'
import { clientIncludesUsage, createUsageChunkRemover, isUsageOnlyChunk } from '../../../src/ollama/stream-usage.js'
import { authorize } from '../../../src/rbac/authorize.js'
import { policy, raw, route } from '../rbac/fixtures.js'

const includes = (text: string) => {
  const b = Buffer.from(text)
  const s = scanBody(b)
  if (!s.ok || s.kind !== 'object') throw new Error('not an object')
  return clientIncludesUsage(b, s.members)
}

describe('what Ollama makes of stream_options', () => {
  it('reads include_usage the way Go decodes it: case-insensitive keys, later members merge, null resets', () => {
    expect(includes('{}')).toBe(false)
    expect(includes('{"stream_options":{"include_usage":true}}')).toBe(true)
    expect(includes('{"STREAM_OPTIONS":{"Include_Usage":true}}')).toBe(true)
    expect(includes('{"stream_options":{"include_usage":true},"stream_options":{}}')).toBe(true)
    expect(includes('{"stream_options":{"include_usage":true},"stream_options":null}')).toBe(false)
    expect(includes('{"stream_options":{"include_usage":true,"include_usage":false}}')).toBe(false)
    expect(includes('{"stream_options":{"include_usage":null}}')).toBe(false)
    expect(includes('{"stream_options":"yes"}')).toBe('invalid')
    expect(includes('{"stream_options":{"include_usage":1}}')).toBe('invalid')
  })
})

describe('the forwarded body of a streamed /v1 request', () => {
  const forward = (id: string, body: string) => {
    const r = authorize(policy, route(id), ['user'], raw(body), {})
    if (!r.ok) throw new Error(r.reason)
    return { body: r.forwardBody?.toString(), added: r.usageAdded }
  }

  it('asks for usage, keeping every other member byte for byte', () => {
    expect(forward('POST /v1/chat/completions', '{"model":"llama3.2","messages":[ {"role":"user","content":"hi"} ],"stream":true}'))
      .toEqual({ body: '{"model":"llama3.2","messages":[ {"role":"user","content":"hi"} ],"stream":true,' +
        '"stream_options":{"include_usage":true}}', added: true })
    expect(forward('POST /v1/completions', '{"model":"llama3.2","prompt":"x","stream":true,"Stream_Options":{"include_usage":false}}'))
      .toEqual({ body: '{"model":"llama3.2","prompt":"x","stream":true,"stream_options":{"include_usage":true}}', added: true })
  })

  it('leaves the body alone when the client asked for usage, did not stream, or sent what Ollama refuses', () => {
    const asked = '{"model":"llama3.2","messages":[],"stream":true,"stream_options":{"include_usage":true}}'
    expect(forward('POST /v1/chat/completions', asked)).toEqual({ body: asked, added: false })
    expect(forward('POST /v1/chat/completions', '{"model":"llama3.2","messages":[]}').added).toBe(false)
    expect(forward('POST /v1/chat/completions', '{"model":"llama3.2","messages":[],"stream":false}').added).toBe(false)
    expect(forward('POST /v1/chat/completions', '{"model":"llama3.2","messages":[],"stream":true,"stream_options":3}').added).toBe(false)
    expect(forward('POST /api/chat', '{"model":"llama3.2","messages":[],"stream":true}').added).toBe(false)
  })
})

const events = [
  'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hé"},"finish_reason":null}]}\n\n',
  'data: {"id":"c","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]}\n\n',
  'data: {"id":"c","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}}\n\n',
  'data: [DONE]\n\n'
]

function through (pieces: Buffer[]): { out: string, seen: string[] } {
  const seen: string[] = []
  const remover = createUsageChunkRemover((d) => seen.push(d))
  const chunks = [...pieces.map((p) => remover.push(p)), remover.end()]
  return { out: Buffer.concat(chunks).toString('utf8'), seen }
}

describe('removing the usage chunk', () => {
  it('recognises only the usage-only chunk', () => {
    expect(isUsageOnlyChunk('{"choices":[],"usage":{"prompt_tokens":1}}')).toBe(true)
    expect(isUsageOnlyChunk('{"choices":[{"index":0}],"usage":{"prompt_tokens":1}}')).toBe(false)
    expect(isUsageOnlyChunk('{"choices":[]}')).toBe(false)
    expect(isUsageOnlyChunk('[DONE]')).toBe(false)
  })

  it('for every way of cutting the stream into two pieces, the rest passes byte for byte and the usage is seen once', async () => {
    const whole = Buffer.from(events.join(''))
    const expected = [events[0], events[1], events[3]].join('')
    for (let cut = 0; cut <= whole.length; cut++) {
      const { out, seen } = through([whole.subarray(0, cut), whole.subarray(cut)])
      expect(out).toBe(expected)
      expect(seen).toHaveLength(1)
    }
  })

  it('a stream cut before [DONE] keeps its last partial event', async () => {
    const { out, seen } = through([Buffer.from(events[0] + 'data: {"id":"c"')])
    expect(out).toBe(events[0] + 'data: {"id":"c"')
    expect(seen).toEqual([])
  })
})
