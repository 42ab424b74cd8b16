// The streaming masker's contract: for every chunking of a text, the concatenated output
// equals the masking of the whole text, and no value is ever released unmasked, however the model
// spells it (JSON escapes, fullwidth forms, invisible format characters, each cut at any point).
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { MaskingEngine } from '../../../src/masking/index.js'
import { engine, SEEDS } from './helpers.js'

/** Format characters a model can hide inside a value: invisible to the reader. */
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff', '\u180e']

/**
 * A seed as the model may spell it: each character as written, as a JSON escape (`\u0040`),
 * in its fullwidth form (`＠`), after an invisible format character, percent-encoded (`%40`) or as
 * an HTML reference (`&#64;`).
 */
const encoded = fc.constantFrom(...SEEDS).chain((seed) =>
  fc.array(fc.nat(7), { minLength: seed.length, maxLength: seed.length }).map((how) => ({
    seed,
    text: [...seed].map((ch, i) => {
      const code = ch.charCodeAt(0)
      switch (how[i]) {
        case 1: return '\\u' + code.toString(16).padStart(4, '0')
        case 4: return '%' + code.toString(16).padStart(2, '0')
        case 5: return '&#' + String(code) + ';'
        case 2: return code > 0x20 && code < 0x7f ? String.fromCharCode(code + 0xfee0) : ch
        case 3: return (INVISIBLE[i % INVISIBLE.length] as string) + ch
        default: return ch
      }
    }).join('')
  })))

/** What a reader ends up with: JSON escapes decoded, compatibility forms folded, format characters gone. */
const revealed = (s: string): string => s.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
  .replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(parseInt(d, 10)))
  .normalize('NFKC').replace(/\p{Cf}/gu, '')

/** A text: noise words and PII values (some of them encoded), separated so each value stands alone. */
const proseWord = fc.stringMatching(/^[A-Za-z,.;:!?'"()]{1,9}$/)
const part = fc.oneof(
  { weight: 3, arbitrary: proseWord.map((text) => ({ text, seed: null as string | null })) },
  { weight: 1, arbitrary: fc.constantFrom(...SEEDS).map((seed) => ({ text: seed, seed })) },
  { weight: 1, arbitrary: encoded })
const seeded = fc.array(part, { minLength: 1, maxLength: 24 })
  .chain((parts) => fc.array(fc.constantFrom(' ', '\n', ' ', '  ', '\u3000', '\\n'), { minLength: parts.length, maxLength: parts.length })
    .map((seps) => ({ text: parts.map((p, i) => p.text + (seps[i] as string)).join(''), values: parts.flatMap((p) => p.seed === null ? [] : [p.seed]) })))

/** Adversarial texts: digits, separators and PII punctuation packed together, plus seeds. */
const dense = fc.array(fc.oneof(
  fc.stringMatching(/^[0-9 \-.+()@a-zA-Z_]{1,12}$/),
  fc.constantFrom(...SEEDS),
  fc.constantFrom('-----BEGIN ', 'PRIVATE KEY-----', '-----END ', 'eyJ', 'AKIA', 'ghk_', '.', '@', '-', ' '),
  encoded.map((x) => x.text),
  // pieces of escapes, surrogates, compatibility forms and combining or format characters, to be cut anywhere
  fc.constantFrom('\\', '\\u', '\\u00', '40', '\\u0040', '\\u002d', '\\ud835', '\\udfcf', '\\ud835\\udfd0', '\\n', '\\\\',
    '\ud835', '\udfcf', '\u{1d7d1}', '\u200b', '\u00ad', '\u0301', '１', '＠', '－', '\u2011', 'ﬁ', '⑴', 'é', '\u3000',
    '%', '%4', '%40', '%2D', '%zz', '&', '&#', '&#6', '&#64;', '&#x4', '&#x40;', '&com', '&commat;', '&copy;', '&#99999999;', '; ')
), { minLength: 1, maxLength: 30 }).map((parts) => parts.join(''))

/** Cut points into a text of length n → chunks. */
function chunk (text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
  const out: string[] = []
  let at = 0
  for (const p of points) {
    out.push(text.slice(at, p))
    at = p
  }
  out.push(text.slice(at))
  return out
}

function streamed (e: MaskingEngine, chunks: string[]): { emitted: string[], out: string } {
  const m = e.createStreamMasker({})
  const emitted = chunks.map((c) => m.push(c))
  emitted.push(m.flush())
  return { emitted, out: emitted.join('') }
}

const cuts = fc.array(fc.nat(), { maxLength: 40 })
const e = engine()

describe('streaming masker', () => {
  test('for every chunking, the concatenated output equals mask(whole text) (seeded prose)', () => {
    fc.assert(fc.property(seeded, cuts, ({ text }, cs) => {
      expect(streamed(e, chunk(text, cs)).out).toBe(e.maskText(text))
    }), { numRuns: 1500 })
  })

  test('for every chunking, the concatenated output equals mask(whole text) (dense digits and separators)', () => {
    fc.assert(fc.property(dense, cuts, (text, cs) => {
      expect(streamed(e, chunk(text, cs)).out).toBe(e.maskText(text))
    }), { numRuns: 1500 })
  })

  test('one character at a time gives the same as the whole text', () => {
    fc.assert(fc.property(dense, (text) => {
      expect(streamed(e, [...text]).out).toBe(e.maskText(text))
    }), { numRuns: 300 })
  })

  test('no seeded value appears in any emitted chunk, nor across chunks', () => {
    fc.assert(fc.property(seeded, cuts, ({ text, values }, cs) => {
      const { emitted, out } = streamed(e, chunk(text, cs))
      for (const v of values) {
        expect(revealed(out)).not.toContain(v)
        for (const c of emitted) expect(revealed(c)).not.toContain(v)
      }
    }), { numRuns: 1500 })
  })

  test('custom entities are chunking-independent too', () => {
    const c = engine(['ssn', 'email'], [{ name: 'emp', pattern: '(?<!\\w)EMP-\\d{4,8}\\b', flags: '', maxLength: 16 }])
    const text = fc.array(fc.oneof(fc.constantFrom('EMP-1234', 'EMP-123456789', 'xEMP-1234', 'EMP-', '1234', ' ', 'a@b.io'), fc.stringMatching(/^[A-Z0-9 -]{1,6}$/)), { maxLength: 20 }).map((p) => p.join(''))
    fc.assert(fc.property(text, cuts, (t, cs) => {
      expect(streamed(c, chunk(t, cs)).out).toBe(c.maskText(t))
    }), { numRuns: 500 })
  })
})

describe('hold-back', () => {
  test('text that cannot become part of a match is released at once', () => {
    const m = e.createStreamMasker({})
    expect(m.push('Hello there, ')).toBe('Hello there, ')
  })

  test('only the trailing partial word is held', () => {
    const m = e.createStreamMasker({})
    expect(m.push('The number is 123-45-')).toBe('The number is ')
    expect(m.push('6789 ok')).toMatch(/^\[MASKED_SSN_[0-9a-f]{8}\] $/)
    expect(m.flush()).toBe('ok')
  })

  test('the hold-back stays bounded on an endless run of entity characters', () => {
    const m = e.createStreamMasker({})
    let released = 0
    for (let i = 0; i < 2000; i++) released += m.push('1234567890').length
    // a digit run never becomes a card/phone/SSN: what is held is at most a few reaches
    expect(20000 - released).toBeLessThan(200)
    expect(m.push(' ').length + m.flush().length + released).toBe(20001)
  })
})
