// With failClosed, the closing frame is held until the audit event is on disk; nothing else waits.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createClosingFrameHolder } from '../../../src/ollama/closing-frame.js'

const ndjson = ['{"response":"a","done":false}\n', '{"response":"b \\"done\\":true","done":false}\n', '{"response":"","done":true,"eval_count":2}\n']
const sse = ['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: {"choices":[{"delta":{"content":""},"finish_reason":"stop"}]}\n\n', 'data: [DONE]\n\n']

function run (framing: 'ndjson' | 'sse', chunks: Buffer[]) {
  const h = createClosingFrameHolder(framing)
  const released = Buffer.concat(chunks.map((c) => h.push(c))).toString()
  return { released, held: h.held().toString() }
}

describe('closing frame holder', () => {
  it('NDJSON: every line but the done:true one passes at once', () => {
    const h = createClosingFrameHolder('ndjson')
    expect(h.push(Buffer.from(ndjson[0] as string)).toString()).toBe(ndjson[0])
    expect(h.push(Buffer.from(ndjson[1] as string)).toString()).toBe(ndjson[1]) // "done":true inside a string is text
    expect(h.push(Buffer.from(ndjson[2] as string)).toString()).toBe('')
    expect(h.held().toString()).toBe(ndjson[2])
  })
  it('SSE: the [DONE] event is held, the finish chunk is not', () => {
    const { released, held } = run('sse', sse.map((s) => Buffer.from(s)))
    expect(released).toBe((sse[0] as string) + (sse[1] as string))
    expect(held).toBe(sse[2])
  })
  it('SSE: a [DONE] event with id:/event: lines before its data line is held too', () => {
    for (const done of ['id: 9\ndata: [DONE]\n\n', 'event: end\r\nid: 9\r\ndata: [DONE]\r\n\r\n', 'data:[DONE] \n\n']) {
      const { released, held } = run('sse', [Buffer.from((sse[0] as string) + done)])
      expect(released, done).toBe(sse[0])
      expect(held, done).toBe(done)
    }
  })
  it('SSE: an event that only mentions [DONE] in its data is not the closing frame', () => {
    const ev = 'data: {"choices":[{"delta":{"content":"[DONE]"}}]}\n\n'
    expect(run('sse', [Buffer.from(ev + 'data: [DONE]\ndata: x\n\n')])).toEqual({ released: ev + 'data: [DONE]\ndata: x\n\n', held: '' })
  })
  it('a chunk of whole frames, none of them closing, passes as it is (no split, no copy)', () => {
    const nd = Buffer.from((ndjson[0] as string) + (ndjson[0] as string))
    expect(createClosingFrameHolder('ndjson').push(nd)).toBe(nd)
    for (const ev of [sse[0] as string, 'data: {"a":1}\r\n\r\n']) {
      const buf = Buffer.from(ev)
      expect(createClosingFrameHolder('sse').push(buf)).toBe(buf)
    }
    // a frame still open before it, or an SSE event not yet ended, goes the long way
    const h = createClosingFrameHolder('ndjson')
    expect(h.push(Buffer.from('{"response":"a",')).toString()).toBe('')
    expect(h.push(Buffer.from('"done":false}\n')).toString()).toBe('{"response":"a","done":false}\n')
    expect(createClosingFrameHolder('sse').push(Buffer.from('data: {"a":1}\n')).toString()).toBe('')
  })
  it('an error line (no done) is released, so a failed stream never waits', () => {
    expect(run('ndjson', [Buffer.from('{"error":"boom"}\n')])).toEqual({ released: '{"error":"boom"}\n', held: '' })
  })
  it('SSE: for every chunking of events with stray blank lines and CRLF, released + held is the input and [DONE] is held', () => {
    const events = ['data: {"a":1}\n\n\n', 'data: {"b":2}\r\n\r\n', '\r\n', 'data: {"c":"true"}\n\n', 'data: [DONE]\n\n']
    const whole = Buffer.from(events.join(''))
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), whole.length]
      const { released, held } = run('sse', points.slice(1).map((p, i) => whole.subarray(points[i] as number, p)))
      expect(released + held).toBe(whole.toString())
      // stray blank lines before it may be held with it; nothing of it is released
      expect(held.replace(/^[\r\n]*/, '')).toBe('data: [DONE]\n\n')
    }), { numRuns: 500 })
  })
  for (const framing of ['ndjson', 'sse'] as const) {
    it(`${framing}: for every chunking, released + held is the input and the closing frame is never released`, () => {
      const whole = Buffer.from((framing === 'ndjson' ? ndjson : sse).join(''))
      const closing = (framing === 'ndjson' ? ndjson[2] : sse[2]) as string
      fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), whole.length]
        const chunks = points.slice(1).map((p, i) => whole.subarray(points[i] as number, p))
        const { released, held } = run(framing, chunks)
        expect(released + held).toBe(whole.toString())
        expect(held).toBe(closing)
      }), { numRuns: 300 })
    })
  }
})
