// Telephone numbers in two written forms, each confirmed by libphonenumber-js (full metadata):
//  - North American: optional +1/1, area code (optionally in parentheses), exchange, line number,
//    separated by nothing, a space, dot or dash: 212-555-0123, (212) 555-0123, +1 212.555.0123;
//  - international E.164-style: "+", country code, then 6–14 more digits, any of them preceded by
//    one space, dot or dash: +44 20 7946 0958, +4930123456.
// The library rejects numbers no numbering plan allows (area code 123, 555-123-4567, short ones).
// Not preceded by a digit, letter or "+"; not followed by a digit or "-digit". When the greedy
// pattern took digits that follow the number, the longest valid number before a space or dot wins.
import parsePhoneNumber from 'libphonenumber-js/max'
import { DIGITS, LOWER, UPPER, digitsOnly, regexDetector, type Detector } from './types.js'

const NANP = '(?:(?:\\+1|1)[ .-]?)?(?:\\(\\d{3}\\) ?|\\d{3}[ .-]?)\\d{3}[ .-]?\\d{4}'
// one optional separator before each digit keeps backtracking linear
const INTL = '\\+[1-9]\\d{0,2}(?:[ .-]?\\d){6,14}'

export function isValidPhone (value: string): boolean {
  const digits = digitsOnly(value)
  if (value.startsWith('+')) {
    if (digits.length < 8 || digits.length > 15) return false
    return parsePhoneNumber(value)?.isValid() === true
  }
  return parsePhoneNumber(value, 'US')?.isValid() === true
}

/**
 * The whole candidate if it is a valid number, else the longest shorter one ending at a digit before
 * a space or dot ("+44 20 7946 0958 4111" → "+44 20 7946 0958"): the pattern is greedy, the number
 * may be followed by other digits.
 */
function acceptPhone (value: string): number {
  if (isValidPhone(value)) return value.length
  for (let k = value.length - 1; k >= 8; k--) {
    const next = value[k]
    if ((next === ' ' || next === '.') && /\d/.test(value[k - 1] as string) && isValidPhone(value.slice(0, k))) return k
  }
  return -1
}

export function phoneDetector (): Detector {
  return regexDetector({
    entity: 'phone',
    pattern: new RegExp(`(?<![\\w+])(?:${INTL}|${NANP})(?!\\d|-\\d)`, 'g'),
    chars: DIGITS + '+() .-',
    starts: { chars: DIGITS + '+(', notAfter: UPPER + LOWER + DIGITS + '_+' },
    // longest: "+" + 3 + 14 × (separator + digit) = 32; NANP at most 19; plus two lookahead characters
    reach: 32 + 2,
    lookbehind: 1,
    accept: acceptPhone,
    normalize: (v) => '+' + (v.startsWith('+') ? digitsOnly(v) : (digitsOnly(v).length === 10 ? '1' + digitsOnly(v) : digitsOnly(v)))
  })
}
