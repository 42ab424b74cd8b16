// International Bank Account Numbers: two-letter country code, two check digits, then the basic
// bank account number, either compact or printed in groups of four separated by single spaces;
// the length must be the one registered for that country (ISO 13616 registry) and the whole number
// must pass the ISO 7064 mod-97 check. Upper-case letters only; not preceded by a letter or digit,
// and not followed by one.
import { DIGITS, LOWER, UPPER, charTable, firstCharStart, trailingRunHold, type Detector } from './types.js'

// IBAN lengths by country (SWIFT IBAN registry)
const LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30
}
const MAX = 34
const REACH = MAX + Math.ceil(MAX / 4) + 2

export function mod97 (iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4)
  let r = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97
    else return false
  }
  return r === 1
}

const isUpper = (c: number): boolean => c >= 65 && c <= 90
const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isAlnum = (c: number): boolean => isUpper(c) || isDigit(c) || (c >= 97 && c <= 122)

/** End of the IBAN starting at s, or -1. Reads the country's length of characters plus one. */
function ibanAt (text: string, s: number): number {
  if (s > 0 && isAlnum(text.charCodeAt(s - 1))) return -1
  const len = LENGTHS[text.slice(s, s + 2)]
  if (len === undefined || !isDigit(text.charCodeAt(s + 2)) || !isDigit(text.charCodeAt(s + 3))) return -1
  // grouped form if a space follows the first group of four
  const grouped = text.charCodeAt(s + 4) === 32
  let compact = ''
  let i = s
  while (compact.length < len) {
    if (grouped && compact.length > 0 && compact.length % 4 === 0) {
      if (text.charCodeAt(i) !== 32) return -1
      i++
    }
    const c = text.charCodeAt(i)
    if (!(isUpper(c) || isDigit(c))) return -1
    compact += text[i]
    i++
  }
  if (isAlnum(text.charCodeAt(i))) return -1
  return mod97(compact) ? i : -1
}

export function ibanDetector (): Detector {
  const table = charTable(UPPER + DIGITS + ' ')
  const canStart = firstCharStart(UPPER, UPPER + LOWER + DIGITS)
  const starts = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}/g
  return {
    entity: 'iban',
    lookbehind: 1,
    reach: REACH,
    find (text, from, limit) {
      starts.lastIndex = from
      for (;;) {
        const m = starts.exec(text)
        if (m === null || m.index >= limit) return null
        const end = ibanAt(text, m.index)
        if (end > 0) return { start: m.index, end }
        starts.lastIndex = m.index + 1
      }
    },
    holdFrom: (text, from) => trailingRunHold(table, REACH, text, from, canStart),
    normalize: (v) => v.replace(/ /g, '')
  }
}
