// Dotted-quad IPv4 addresses, each octet 0–255 without leading zeros. Not part of a longer dotted
// number: not preceded by a digit or dot, not followed by a digit or ".digit".
import { DIGITS, regexDetector, type Detector } from './types.js'

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'

export function ipv4Detector (): Detector {
  return regexDetector({
    entity: 'ipv4',
    pattern: new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?!\\d|\\.\\d)`, 'g'),
    chars: DIGITS + '.',
    starts: { chars: DIGITS, notAfter: DIGITS + '.' },
    reach: 15 + 2,
    lookbehind: 1
  })
}
