// Native Ollama NDJSON replies (/api/generate, /api/chat) through the masking transform.
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { cutBytes, engine, newObs, runStage, tokenTypes } from './helpers.js'

const e = engine()
const gen = (response: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'llama3.2', created_at: '2025-01-01T00:00:00Z', response, done: false, ...extra }) + '\n'
const doneLine = JSON.stringify({
  model: 'llama3.2', created_at: '2025-01-01T00:00:01Z', response: '', done: true, done_reason: 'stop',
  context: [1, 2, 3], total_duration: 10, load_duration: 1, prompt_eval_count: 7, prompt_eval_duration: 2, eval_count: 9, eval_duration: 3
}) + '\n'

const parseLines = (out: string[]): Array<Record<string, unknown>> =>
  out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
const responseText = (lines: Array<Record<string, unknown>>, field = 'response'): string =>
  lines.map((l) => (typeof l[field] === 'string' ? l[field] : '')).join('')

describe('/api/generate NDJSON', () => {
  const body = Buffer.from(gen('My SSN is 123-') + gen('45-6789 and card 4111 1111 ') + gen('1111 1111, mail jo@ex') + gen('ample.org.') + doneLine)
  const expected = e.maskText('My SSN is 123-45-6789 and card 4111 1111 1111 1111, mail jo@example.org.')

  test('for every split position of the byte stream, the text equals mask(whole) and no value leaks', async () => {
    for (let i = 0; i <= body.length; i += 3) {
      const obs = newObs()
      const out = runStage(e.replyStage('generate', 'ndjson', obs), cutBytes(body, [i]))
      const all = out.join('')
      expect(all).not.toContain('6789')
      expect(all).not.toContain('1111')
      expect(all).not.toContain('jo@')
      const lines = parseLines(out)
      expect(responseText(lines)).toBe(expected)
      expect(lines.at(-1)?.done).toBe(true)
      expect(obs.masked).toEqual({ ssn: 1, credit_card: 1, email: 1 })
    }
  })

  test('random chunkings of the bytes, including inside UTF-8 sequences', async () => {
    const utf = Buffer.from(gen('Grüße — 🙂 ssn 123-4') + gen('5-6789 ✓') + doneLine)
    const want = e.maskText('Grüße — 🙂 ssn 123-45-6789 ✓')
    await fc.assert(fc.asyncProperty(fc.array(fc.nat({ max: utf.length }), { maxLength: 12 }), async (cuts) => {
      const lines = parseLines(runStage(e.replyStage('generate', 'ndjson', newObs()), cutBytes(utf, cuts)))
      expect(responseText(lines)).toBe(want)
    }), { numRuns: 200 })
  })

  test('every other field and line is kept; context and logprobs are dropped; usage is read', async () => {
    const obs = newObs()
    const out = runStage(e.replyStage('generate', 'ndjson', obs), [Buffer.from(gen('hi ', { logprobs: [{ token: 'hi' }] }) + doneLine)])
    const lines = parseLines(out)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toEqual({ model: 'llama3.2', created_at: '2025-01-01T00:00:00Z', response: 'hi ', done: false })
    const last = lines[1] as Record<string, unknown>
    expect(last).not.toHaveProperty('context')
    expect(last).toMatchObject({ done: true, done_reason: 'stop', response: '', eval_count: 9, prompt_eval_count: 7, total_duration: 10 })
    expect(obs.usage).toMatchObject({ input: 7, output: 9 })
  })

  test('thinking is masked as its own stream', async () => {
    const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [
      Buffer.from(gen('', { thinking: 'user is 123-45' }) + gen('ok', { thinking: '-6789' }) + doneLine)
    ])
    const lines = parseLines(out)
    expect(tokenTypes(responseText(lines, 'thinking'))).toEqual(['SSN'])
    expect(out.join('')).not.toContain('6789')
  })

  test('an error line passes, with its message masked, after any held text', async () => {
    const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [
      Buffer.from(gen('call 212-555-') + JSON.stringify({ error: 'failed for a@b.io' }) + '\n')
    ])
    const lines = parseLines(out)
    expect(lines.at(-1)).toEqual({ error: expect.stringMatching(/^failed for \[MASKED_EMAIL_[0-9a-f]{8}\]$/) })
    expect(responseText(lines)).toBe('call 212-555-')
  })
})

describe('/api/chat NDJSON', () => {
  const chat = (content: string, extra: Record<string, unknown> = {}, done = false): string =>
    JSON.stringify({ model: 'm', created_at: 't', message: { role: 'assistant', content, ...extra }, done }) + '\n'

  test('message.content, message.thinking and tool-call arguments are masked; split values never leak', async () => {
    const body = Buffer.from(
      chat('Reach me at +1 212 5', { thinking: 'card 4111-1111-' }) +
      chat('55 0123 today', { thinking: '1111-1111' }) +
      chat('', { tool_calls: [{ function: { name: 'lookup', arguments: { ssn: '123-45-6789', n: 2125550123 } } }] }) +
      JSON.stringify({ model: 'm', created_at: 't', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 3 }) + '\n')
    for (let i = 0; i <= body.length; i += 2) {
      const out = runStage(e.replyStage('chat', 'ndjson', newObs()), cutBytes(body, [i, i + 17]))
      const all = out.join('')
      for (const raw of ['0123', '1111', '6789']) expect(all).not.toContain(raw)
      const lines = parseLines(out)
      const msgs = lines.map((l) => l.message as Record<string, unknown>)
      expect(msgs.map((m) => m.content ?? '').join('')).toBe(e.maskText('Reach me at +1 212 555 0123 today'))
      expect(tokenTypes(msgs.map((m) => m.thinking ?? '').join(''))).toEqual(['CREDIT_CARD'])
      const tc = msgs[2]?.tool_calls as Array<{ function: { name: string, arguments: Record<string, unknown> } }>
      expect(tc[0]?.function.name).toBe('lookup')
      expect(tokenTypes(JSON.stringify(tc[0]?.function.arguments))).toEqual(['SSN', 'PHONE'])
      expect(lines.at(-1)?.done).toBe(true)
    }
  })

  test('held text is flushed into the closing line', async () => {
    const out = runStage(e.replyStage('chat', 'ndjson', newObs()), [Buffer.from(chat('the end 42') + chat('', {}, true))])
    const lines = parseLines(out)
    expect((lines[0]?.message as Record<string, unknown>).content).toBe('the end ')
    expect((lines[1]?.message as Record<string, unknown>).content).toBe('42')
  })

  test('a stream cut without its closing line still releases held text (masked)', async () => {
    const out = runStage(e.replyStage('chat', 'ndjson', newObs()), [Buffer.from(chat('ssn 123-45-6789'))])
    expect(out.join('')).not.toContain('6789')
    expect(tokenTypes(out.join(''))).toEqual(['SSN'])
  })
})

describe('over a real socket', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      const body = Buffer.from(gen('ssn 123-4') + gen('5-6789 ') + doneLine)
      let i = 0
      const tick = (): void => {
        if (i >= body.length) { res.end(); return }
        res.write(body.subarray(i, i + 7))
        i += 7
        setTimeout(tick, 1) // trickle: the scenario is a reply arriving in small pieces over time
      }
      tick()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)) })

  test('a trickled upstream reply comes out masked, line by line, ending with the done line', async () => {
    const chunks: string[] = []
    await new Promise<void>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, (res) => {
        const stage = e.replyStage('generate', 'ndjson', newObs())
        const keep = (b: Buffer): void => { if (b.length > 0) chunks.push(b.toString()) }
        res.on('data', (d: Buffer) => keep(stage.push(d)))
        res.on('end', () => { keep(stage.end()); resolve() })
        res.on('error', reject)
      }).on('error', reject).end()
    })
    expect(chunks.length).toBeGreaterThan(1) // streamed, not buffered
    const lines = parseLines(chunks)
    expect(responseText(lines)).toBe(e.maskText('ssn 123-45-6789 '))
    expect(lines.at(-1)?.done).toBe(true)
  })
})
