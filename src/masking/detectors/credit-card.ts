// Payment card numbers: 13–19 digits, optionally grouped by single spaces or dashes, passing the
// Luhn check. Not preceded by a letter or digit; the number ends where no digit follows. When a run of
// digits and separators is longer than a card ("4111 1111 1111 1111 2 items"), the longest prefix
// that ends at a digit, before a non-digit, and passes Luhn is the card: masking errs on the side
// of hiding. Every group start is a candidate start, so a card after other numbers is still found.
import { DIGITS, LOWER, UPPER, charTable, digitsOnly, firstCharStart, trailingRunHold, type Detector } from './types.js'

const MIN = 13
const MAX = 19
const REACH = MAX * 2 + 1 // 19 digits, 18 separators, one character of lookahead (and one spare)

export function luhn (digits: string): boolean {
  let sum = 0
  let dbl = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (dbl) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    dbl = !dbl
  }
  return sum % 10 === 0
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isAlnum = (c: number): boolean => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 122)
const isSep = (c: number): boolean => c === 32 || c === 45

/** The card starting at s, if any. Reads only digits and separators, and the character after them. */
function cardAt (text: string, s: number): number {
  if (s > 0 && isAlnum(text.charCodeAt(s - 1))) return -1
  const ends: number[] = [] // candidate end positions, shortest first
  let digits = 0
  let i = s
  while (i < text.length && digits < MAX) {
    const c = text.charCodeAt(i)
    if (isDigit(c)) {
      digits++
      i++
      if (digits >= MIN && !isDigit(text.charCodeAt(i))) ends.push(i) // NaN at the end: not a digit
    } else if (isSep(c) && digits > 0 && isDigit(text.charCodeAt(i + 1))) {
      i++
    } else break
  }
  for (let k = ends.length - 1; k >= 0; k--) {
    const e = ends[k] as number
    if (luhn(digitsOnly(text.slice(s, e)))) return e
  }
  return -1
}

export function creditCardDetector (): Detector {
  const table = charTable(DIGITS + ' -')
  const canStart = firstCharStart(DIGITS, UPPER + LOWER + DIGITS)
  const starts = /\d/g
  return {
    entity: 'credit_card',
    lookbehind: 1,
    reach: REACH,
    find (text, from, limit) {
      starts.lastIndex = from
      for (;;) {
        const m = starts.exec(text)
        if (m === null || m.index >= limit) return null
        const end = cardAt(text, m.index)
        if (end > 0) return { start: m.index, end }
        // skip the rest of this digit group: no card starts right after a digit or letter
        let j = m.index + 1
        while (isDigit(text.charCodeAt(j))) j++
        starts.lastIndex = j
      }
    },
    holdFrom: (text, from) => trailingRunHold(table, REACH, text, from, canStart),
    normalize: digitsOnly
  }
}
