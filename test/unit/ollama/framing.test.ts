import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createLineSplitter, createNdjsonSplitter, createSseSplitter, formatSseEvent, isDoneData, sseDataOf } from '../../../src/ollama/framing.js'

const cut = (b: Buffer, at: number[]): Buffer[] => {
  const pts = [...new Set(at.map((x) => x % (b.length + 1)))].sort((x, y) => x - y)
  const out: Buffer[] = []
  let prev = 0
  for (const p of pts) { out.push(b.subarray(prev, p)); prev = p }
  out.push(b.subarray(prev))
  return out
}

describe('NDJSON splitter', () => {
  const lines = ['{"a":"Grüße 🙂"}', '{"b":2}', '{"c":"✓✓✓"}']
  const bytes = Buffer.from(lines.join('\n') + '\n')

  test('any chunking, including inside UTF-8 sequences, gives the same lines', () => {
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
      const s = createNdjsonSplitter()
      const got = cut(bytes, cuts).flatMap((c) => s.push(c))
      expect(got).toEqual(lines)
      expect(s.end()).toBeNull()
    }), { numRuns: 500 })
  })

  test('many lines in one chunk, blank lines skipped, CRLF tolerated, unterminated last line returned at end', () => {
    const s = createNdjsonSplitter()
    expect(s.push(Buffer.from('{"x":1}\r\n\n{"y":2}\n{"z"'))).toEqual(['{"x":1}', '{"y":2}'])
    expect(s.push(Buffer.from(':3}'))).toEqual([])
    expect(s.end()).toBe('{"z":3}')
  })

  test('a line longer than the bound is an error with a code', () => {
    const s = createNdjsonSplitter(10)
    expect(() => s.push(Buffer.from('x'.repeat(11)))).toThrow(expect.objectContaining({ code: 'GH_ERR_FRAME_TOO_LARGE' }))
    const t = createLineSplitter(10)
    expect(t.push(Buffer.from('x'.repeat(10) + '\n'))).toEqual(['x'.repeat(10)])
  })

  test('a terminated line longer than the bound is an error too, whole in one chunk or across chunks', () => {
    const tooLarge = expect.objectContaining({ code: 'GH_ERR_FRAME_TOO_LARGE' })
    expect(() => createNdjsonSplitter(10).push(Buffer.from('x'.repeat(11) + '\n'))).toThrow(tooLarge)
    expect(() => createNdjsonSplitter(10).push(Buffer.from('{"a":1}\n' + 'x'.repeat(11) + '\r\n'))).toThrow(tooLarge)
    const s = createNdjsonSplitter(10)
    expect(s.push(Buffer.from('x'.repeat(6)))).toEqual([])
    expect(() => s.push(Buffer.from('x'.repeat(5) + '\n'))).toThrow(tooLarge)
    // the CR of a CRLF is not part of the line
    expect(createNdjsonSplitter(10).push(Buffer.from('x'.repeat(10) + '\r\n'))).toEqual(['x'.repeat(10)])
  })
})

describe('SSE splitter', () => {
  const stream = 'data: {"a":"é"}\n\n: comment\n\nevent: x\ndata: 1\ndata: 2\n\ndata: [DONE]\n\n'

  test('events come out whole for every chunking, with LF, CRLF or CR line ends, empty chunks between', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const bytes = Buffer.from(stream.replace(/\n/g, eol))
      fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        const s = createSseSplitter()
        // an empty chunk (one a stage before lets out) must not make a CR at a chunk's end forget its LF
        const evs = cut(bytes, cuts).flatMap((c) => [...s.push(c), ...s.push(Buffer.alloc(0))])
        expect(evs).toEqual([
          { data: '{"a":"é"}', other: [] },
          { data: null, other: [': comment'] },
          { data: '1\n2', other: ['event: x'] },
          { data: '[DONE]', other: [] }
        ])
      }), { numRuns: 200 })
    }
  })

  test('an event not closed by a blank line is returned at end', () => {
    const s = createSseSplitter()
    expect(s.push(Buffer.from('data: {"x":1}\n'))).toEqual([])
    expect(s.end()).toEqual({ data: '{"x":1}', other: [] })
  })

  test('formatSseEvent writes data lines and closes with a blank line', () => {
    expect(formatSseEvent({ data: 'a\nb', other: ['id: 1'] })).toBe('id: 1\ndata: a\ndata: b\n\n')
  })

  test('isDoneData: the [DONE] marker, surrounding whitespace ignored, nothing else', () => {
    expect(isDoneData('[DONE]')).toBe(true)
    expect(isDoneData(' [DONE]\r')).toBe(true)
    expect(isDoneData('[DONE]\nx')).toBe(false)
    expect(isDoneData('{"x":"[DONE]"}')).toBe(false)
  })

  test('an event longer than the bound is an error', () => {
    const s = createSseSplitter(16)
    expect(() => s.push(Buffer.from('data: ' + 'x'.repeat(20) + '\n'))).toThrow(expect.objectContaining({ code: 'GH_ERR_FRAME_TOO_LARGE' }))
  })
})

describe('sseDataOf', () => {
  test('one leading space is dropped, a second one kept; other lines are not data', () => {
    expect(sseDataOf('data: x')).toBe('x')
    expect(sseDataOf('data:x')).toBe('x')
    expect(sseDataOf('data:  x')).toBe(' x')
    expect(sseDataOf('data:')).toBe('')
    expect(sseDataOf('event: data: x')).toBeNull()
    expect(sseDataOf(': data: x')).toBeNull()
    expect(sseDataOf('Data: x')).toBeNull()
  })
})
