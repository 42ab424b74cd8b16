// US Social Security numbers written AAA-GG-SSSS or AAA GG SSSS (one separator, used twice).
// Rules (SSA): area not 000, 666 or 900–999; group not 00; serial not 0000. Bare nine-digit runs
// are not matched: too many other numbers look like that. Not preceded by a digit (or digit and
// dash), not followed by a digit or by "-digit" (then it is part of a longer number).
import { DIGITS, digitsOnly, regexDetector, whole, type Detector } from './types.js'

export function isValidSsn (value: string): boolean {
  const d = digitsOnly(value)
  if (d.length !== 9) return false
  const area = d.slice(0, 3)
  return area !== '000' && area !== '666' && area[0] !== '9' && d.slice(3, 5) !== '00' && d.slice(5) !== '0000'
}

export function ssnDetector (): Detector {
  return regexDetector({
    entity: 'ssn',
    pattern: /(?<!\d-?)\d{3}([- ])\d{2}\1\d{4}(?!\d|-\d)/g,
    chars: DIGITS + '- ',
    starts: { chars: DIGITS, notAfter: DIGITS },
    reach: 11 + 2,
    lookbehind: 2,
    accept: whole(isValidSsn),
    normalize: digitsOnly
  })
}
