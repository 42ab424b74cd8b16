// The body scanner must accept exactly the JSON that a standard parser accepts, find the top-level
// members a standard parser finds, and match keys to fields the way Go's encoding/json does.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeString, goKeyMatches, looksLikeKey, scanBody } from '../../../src/ollama/go-json.js'

const accepts = (text: string): boolean => { try { JSON.parse(text); return true } catch { return false } }

describe('scanBody agrees with JSON.parse', () => {
  it('accepts every JSON document, and reports the top-level members JSON.parse sees', () => {
    fc.assert(fc.property(fc.json(), (text) => {
      const scan = scanBody(Buffer.from(text))
      expect(scan.ok).toBe(true)
      const value = JSON.parse(text) as unknown
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        if (!scan.ok || scan.kind !== 'object') throw new Error('expected an object')
        const buf = Buffer.from(text)
        const seen = new Map<string, unknown>()
        for (const m of scan.members) seen.set(m.key, JSON.parse(buf.subarray(m.valueStart, m.valueEnd).toString('utf8')))
        expect(Object.fromEntries(seen)).toEqual(value)
      } else {
        expect(scan.ok && scan.kind).toBe(value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'boolean' ? String(value) : typeof value)
      }
    }), { numRuns: 500 })
  })

  it('accepts a mutated document exactly when JSON.parse does', () => {
    const mutated = fc.tuple(fc.json(), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...'{}[]",:\\ 0-1e.tfnu\u00e9'.split(''), '\ufeff', '\u0001', 'true', 'nul'))
      .map(([text, at, del, ins]) => { const i = at % (text.length + 1); return text.slice(0, i) + ins + text.slice(i + del) })
    fc.assert(fc.property(mutated, (text) => {
      expect(scanBody(Buffer.from(text)).ok, text).toBe(accepts(text))
    }), { numRuns: 3000 })
  })

  it('decodes keys and strings as JSON.parse does, surrogate pairs included', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const token = Buffer.from(JSON.stringify(s))
      expect(decodeString(token, 0, token.length)).toBe(s)
    }), { numRuns: 500 })
  })

  it('a lone surrogate escape decodes to U+FFFD, as in Go', () => {
    const token = Buffer.from('"a\\ud800b\\udc00"')
    expect(decodeString(token, 0, token.length)).toBe('a\ufffdb\ufffd')
  })

  it('a BOM inside a string stays a character', () => {
    const token = Buffer.from('"\ufeffmodel"')
    expect(decodeString(token, 0, token.length)).toBe('\ufeffmodel')
  })

  it('is iterative: 9000 levels are fine, more than 10000 are an error', () => {
    expect(scanBody(Buffer.from('['.repeat(9000) + ']'.repeat(9000))).ok).toBe(true)
    expect(scanBody(Buffer.from('['.repeat(10001) + ']'.repeat(10001)))).toEqual({ ok: false, error: 'depth' })
  })
})

describe('Go key folding', () => {
  it('matches ASCII case variants', () => {
    for (const k of ['model', 'MODEL', 'Model', 'mOdEl']) expect(goKeyMatches(k, 'model')).toBe(true)
    for (const k of ['models', 'mode', 'model ', ' model', 'm0del', '']) expect(goKeyMatches(k, 'model')).toBe(false)
  })

  it('folds K (U+212A) with k and ſ (U+017F) with s, as unicode.SimpleFold does', () => {
    expect(goKeyMatches('\u212aey', 'key')).toBe(true)
    expect(goKeyMatches('\u017fource', 'source')).toBe(true)
    expect(goKeyMatches('de\u017fTINATION', 'destination')).toBe(true)
  })

  it('does not fold the Turkish ı/İ with i (Go orbits them to themselves) but flags them as look-alikes', () => {
    expect(goKeyMatches('dest\u0131nation', 'destination')).toBe(false)
    expect(goKeyMatches('dest\u0130nation', 'destination')).toBe(false)
    expect(looksLikeKey('dest\u0131nation', 'destination')).toBe(true)
    expect(looksLikeKey('dest\u0130nation', 'destination')).toBe(true)
  })

  it('flags compatibility forms and invisible characters, not plain other keys', () => {
    expect(looksLikeKey('\uff2dodel', 'model')).toBe(true)
    expect(looksLikeKey('mo\u200bdel', 'model')).toBe(true)
    expect(looksLikeKey('model', 'model')).toBe(false)
    expect(looksLikeKey('prompt', 'model')).toBe(false)
    expect(looksLikeKey('mod\ufffdel', 'model')).toBe(false)
  })
})
