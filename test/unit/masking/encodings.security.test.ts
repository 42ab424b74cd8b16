// Security regressions: a value the model spells in another encoding is still masked. The client
// turns JSON escapes back into characters (a `format: json` answer is parsed), renders fullwidth
// forms as the digits and signs they stand for, and does not show zero-width or other format
// characters (and a browser decodes percent-encoding and HTML references); so detection runs on that view of the text, while the characters replaced are the
// ones the model wrote. Streamed, at every split position, nothing of a value leaks.
import { describe, expect, test } from 'vitest'
import { engine, newObs, runStage, splits, tokenTypes } from './helpers.js'

const e = engine()
type Obj = Record<string, unknown>

/** What a reader ends up with: JSON escapes decoded, compatibility forms folded, format characters gone. */
export function revealed (s: string): string {
  const decoded = s.replace(/\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})/g, (_, h: string, l: string) => String.fromCharCode(parseInt(h, 16), parseInt(l, 16)))
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\n/g, '\n')
    .replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(parseInt(d, 10)))
    .replace(/&#[xX]([0-9a-fA-F]+);/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&(commat|period|hyphen);/g, (_, n: string) => ({ commat: '@', period: '.', hyphen: '-' })[n] as string)
  return decoded.normalize('NFKD').replace(/[\p{Cf}\p{M}]/gu, '')
}

const SSN = '123-45-6789'
const EMAIL = 'bob.smith@example.com'
const CARD = '4111 1111 1111 1111'

// [written by the model, what it stands for, entity]
const CASES: Array<[string, string, string]> = [
  ['bob.smith\\u0040example.com', EMAIL, 'EMAIL'],
  ['123\\u002d45\\u002d6789', SSN, 'SSN'],
  ['\\u0031\\u0032\\u0033-45-6789', SSN, 'SSN'],
  ['１２３-４５-６７８９', SSN, 'SSN'],
  ['bob.smith＠example.com', EMAIL, 'EMAIL'],
  ['ｂｏｂ.ｓｍｉｔｈ@ｅｘａｍｐｌｅ.ｃｏｍ', EMAIL, 'EMAIL'],
  ['123-45\u200b-6789', SSN, 'SSN'],
  ['12\u200d3-45-6789', SSN, 'SSN'],
  ['bob.smith\u2060@example.com', EMAIL, 'EMAIL'],
  ['123-\u00ad45-6789', SSN, 'SSN'],
  ['bob\ufeff.smith@exam\u200cple.com', EMAIL, 'EMAIL'],
  ['123\\u200b-45-6789', SSN, 'SSN'],
  ['bob.smith\\uff20example.com', EMAIL, 'EMAIL'],
  // combining marks on a value's characters (ó written as o + U+0301, a keycap on a digit)
  ['bo\u0301b.smith@example.com', EMAIL, 'EMAIL'],
  ['123-45-67\u20e389', SSN, 'SSN'],
  ['bób.smith@example.com', EMAIL, 'EMAIL'],
  // mathematical bold digits, outside the BMP: escaped as surrogate pairs, and written directly
  ['\\ud835\\udfcf\\ud835\\udfd0\\ud835\\udfd1-45-6789', SSN, 'SSN'],
  ['\u{1d7cf}\u{1d7d0}\u{1d7d1}-45-6789', SSN, 'SSN'],
  // a JSON escape in front of a value: as text the escape's letter would touch it
  ['pay\\n4111 1111 1111 1111', CARD, 'CREDIT_CARD'],
  // percent-encoding and HTML character references
  ['bob.smith%40example.com', EMAIL, 'EMAIL'],
  ['123%2D45%2d6789', SSN, 'SSN'],
  ['bob.smith&#64;example.com', EMAIL, 'EMAIL'],
  ['bob.smith&#x40;example&period;com', EMAIL, 'EMAIL'],
  ['bob.smith&commat;example.com', EMAIL, 'EMAIL'],
  ['123&hyphen;45&#45;6789', SSN, 'SSN']
]

const FRAGMENT: Record<string, string> = { SSN: '6789', EMAIL: 'smith', CREDIT_CARD: '1111' }

describe('values in another encoding are masked', () => {
  for (const [written, value, type] of CASES) {
    const kept = written.startsWith('pay') ? 'pay\\n' : ''
    test(`whole text: ${JSON.stringify(written)} is masked as ${type}, with the token of the plain value`, () => {
      const out = e.maskText(`see ${written} now`)
      expect(revealed(out)).not.toContain(FRAGMENT[type])
      expect(tokenTypes(out)).toEqual([type])
      expect(out).toBe(`see ${kept}${e.maskText(value)} now`)
    })

    test(`streamed: ${JSON.stringify(written)} split at every position never leaks and equals the whole`, () => {
      const text = `see ${written} now`
      const whole = e.maskText(text)
      for (const parts of splits(text)) {
        const m = e.createStreamMasker({})
        const emitted = parts.map((p) => m.push(p))
        emitted.push(m.flush())
        expect(emitted.join(''), JSON.stringify(parts)).toBe(whole)
        for (const c of emitted) expect(revealed(c), JSON.stringify(parts)).not.toContain(FRAGMENT[type])
      }
    })
  }

  test('the escaped, fullwidth and plain forms of a value give one token', () => {
    const token = (s: string): string => e.maskText(s)
    expect(token('bob.smith\\u0040example.com')).toBe(token(EMAIL))
    expect(token('bob.smith＠example.com')).toBe(token(EMAIL))
    expect(token('１２３-４５-６７８９')).toBe(token(SSN))
    expect(token('123-45\u200b-6789')).toBe(token(SSN))
  })

  test('only the characters of the value are replaced; the text around it is kept as written', () => {
    expect(e.maskText('a \\u0022x\\u0022 123\\u002d45\\u002d6789 \u200b１')).toBe(`a \\u0022x\\u0022 ${e.maskText(SSN)} \u200b１`)
  })

  test('an escaped backslash is not the start of an escape: \\\\u0040 stays text', () => {
    expect(tokenTypes(e.maskText('bob\\\\u0040example.com'))).toEqual([])
  })
})

describe('a `format: json` answer: what the client parses carries no value', () => {
  const answer = JSON.stringify({ email: 'bob.smith@example.com', ssn: '123-45-6789' }).replace(/@/g, '\\u0040').replace(/-/g, '\\u002d')

  test('NDJSON generate, one token per line, cut at every byte: the parsed answer is clean', async () => {
    const tokens = answer.match(/.{1,3}/gs) ?? []
    const body = Buffer.from(tokens.map((t) => JSON.stringify({ model: 'm', response: t, done: false }) + '\n').join('') + JSON.stringify({ model: 'm', response: '', done: true }) + '\n')
    for (let cut = 1; cut < body.length; cut += 7) {
      const out = (runStage(e.replyStage('generate', 'ndjson', newObs()), [body.subarray(0, cut), body.subarray(cut)])).join('')
      const text = out.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Obj).response as string).join('')
      const parsed = JSON.parse(text) as Obj
      expect(tokenTypes(String(parsed.email))).toEqual(['EMAIL'])
      expect(tokenTypes(String(parsed.ssn))).toEqual(['SSN'])
    }
  })

  test('a document: the parsed answer is clean', () => {
    const out = JSON.parse(e.maskDocument('generate', Buffer.from(JSON.stringify({ model: 'm', response: answer, done: true })), newObs()).toString('utf8')) as Obj
    const parsed = JSON.parse(out.response as string) as Obj
    expect(tokenTypes(String(parsed.email))).toEqual(['EMAIL'])
    expect(tokenTypes(String(parsed.ssn))).toEqual(['SSN'])
  })
})
