// Security regressions: nothing unmasked is ever sent while masking is on.
import { describe, expect, test } from 'vitest'
import { engine, newObs, runStage } from './helpers.js'

const e = engine()

describe('fail closed', () => {
  test('an unparseable NDJSON line ends the stream with an error line and nothing after it', async () => {
    const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [
      Buffer.from('{"response":"ok ","done":false}\n{"response":"123-45-6789 not json\n'),
      Buffer.from('{"response":"later 234-56-7890","done":false}\n{"done":true}\n')
    ])
    const all = out.join('')
    expect(all).not.toContain('6789')
    expect(all).not.toContain('later')
    const lines = all.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.at(-1)).toEqual({ error: 'upstream reply could not be processed' })
  })

  test('an unparseable SSE event ends the stream with an OpenAI-shaped error event', async () => {
    const out = runStage(e.replyStage('openai-chat', 'sse', newObs()), [Buffer.from('data: {"choices":[{"delta":{"content":"a@b.io"\n\ndata: [DONE]\n\n')])
    const all = out.join('')
    expect(all).not.toContain('a@b.io')
    expect(all).not.toContain('[DONE]')
    expect(JSON.parse(all.replace(/^data: /, '').trim())).toMatchObject({ error: { code: 'GH_ERR_UPSTREAM_BAD_REPLY', type: 'api_error' } })
  })

  test('a non-object JSON line is refused too (no field-by-field guesswork)', async () => {
    const out = runStage(e.replyStage('chat', 'ndjson', newObs()), [Buffer.from('"123-45-6789"\n')])
    expect(out.join('')).not.toContain('6789')
    expect(out.join('')).toContain('upstream reply could not be processed')
  })

  test('a non-streamed document that does not parse is refused with UPSTREAM_BAD_REPLY (502), its text never returned', () => {
    let thrown: unknown
    try {
      e.maskDocument('openai-chat', Buffer.from('{"choices":[{"message":{"content":"123-45-6789"'), newObs())
    } catch (err) { thrown = err }
    expect(thrown).toMatchObject({ code: 'GH_ERR_UPSTREAM_BAD_REPLY', statusCode: 502 })
    expect(String((thrown as Error).message)).not.toContain('6789')
  })

  test('an over-long line is refused instead of buffered without bound', async () => {
    const big = Buffer.from('{"response":"' + 'a'.repeat(9 * 1024 * 1024))
    const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [big])
    expect(out.join('')).toBe(JSON.stringify({ error: 'upstream reply could not be processed' }) + '\n')
  })

  test('context token ids never pass (they encode the unmasked text)', async () => {
    const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [Buffer.from('{"response":"","done":true,"context":[128000,123]}\n')])
    expect(out.join('')).not.toContain('context')
  })

  test('a value split across lines, across chunks, inside a JSON escape is still masked', async () => {
    const l1 = JSON.stringify({ response: 'ssn\n123-45-', done: false }) + '\n'
    const l2 = JSON.stringify({ response: '6789\tend', done: true }) + '\n'
    const body = Buffer.from(l1 + l2)
    for (let i = 1; i < body.length; i++) {
      const out = runStage(e.replyStage('generate', 'ndjson', newObs()), [body.subarray(0, i), body.subarray(i)])
      expect(out.join('')).not.toMatch(/6789/)
    }
  })
})
