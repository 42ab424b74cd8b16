// Credentials a model may repeat from its context. Each kind is its own detector; all mask as SECRET.
//  - AWS access key ids: AKIA/ASIA/… prefix and 16 upper-case letters or digits;
//  - Gatehouse API keys (ghk_) and GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_): prefix and 20–200
//    characters of [A-Za-z0-9_-];
//  - JSON Web Tokens: three base64url parts, the first two starting "eyJ" (a JSON object);
//  - PEM private-key blocks: "-----BEGIN … PRIVATE KEY-----" through the first matching
//    "-----END … PRIVATE KEY-----"; with no footer within the bound, the header and the base64 body
//    that follows it (a truncated key is still a key).
import { DIGITS, LOWER, UPPER, charTable, regexDetector, type Detector, type Span } from './types.js'

const B64URL = UPPER + LOWER + DIGITS + '_-'

export function awsKeyDetector (): Detector {
  return regexDetector({
    entity: 'secret',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    chars: UPPER + LOWER + DIGITS,
    starts: { chars: 'A' },
    reach: 20 + 1,
    lookbehind: 1
  })
}

export function tokenPrefixDetector (): Detector {
  return regexDetector({
    entity: 'secret',
    pattern: /(?<![A-Za-z0-9_-])(?:ghk|ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_-]{20,200}(?![A-Za-z0-9_-])/g,
    chars: B64URL,
    starts: { prefixes: ['ghk_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'] },
    reach: 4 + 200 + 1,
    lookbehind: 1
  })
}

const JWT_PART = 2048
export function jwtDetector (): Detector {
  return regexDetector({
    entity: 'secret',
    pattern: new RegExp(
      `(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,${JWT_PART}}\\.eyJ[A-Za-z0-9_-]{5,${JWT_PART}}\\.` +
      `[A-Za-z0-9_-]{10,${JWT_PART}}(?![A-Za-z0-9_-])`, 'g'),
    chars: B64URL + '.',
    starts: { prefixes: ['eyJ'] },
    reach: 3 * (JWT_PART + 3) + 1,
    lookbehind: 1
  })
}

const BEGIN = '-----BEGIN '
const HEADER_MAX = 11 + 40 + 16
const FOOTER_MAX = 9 + 40 + 16
const BODY_MAX = 8192
const PK_REACH = HEADER_MAX + BODY_MAX + FOOTER_MAX + 1
// base64 body, line breaks (also JSON-escaped ones: \n), PEM headers such as "Proc-Type: 4,ENCRYPTED"
const BODY = charTable(UPPER + LOWER + DIGITS + '+/=:,-\\ \t\r\n')

interface PkResult { span: Span | null, settled: boolean }

/** The private-key block at s, and whether that answer is final for the text seen so far. */
function privateKeyAt (HEADER: RegExp, FOOTER: RegExp, text: string, s: number): PkResult {
  const n = text.length
  HEADER.lastIndex = s
  if (!HEADER.test(text)) return { span: null, settled: s + HEADER_MAX < n }
  const bodyStart = HEADER.lastIndex
  const limit = Math.min(n, bodyStart + BODY_MAX)
  let k = text.indexOf('-----END ', bodyStart)
  while (k >= 0 && k <= limit) {
    FOOTER.lastIndex = k
    if (FOOTER.test(text)) return { span: { start: s, end: FOOTER.lastIndex }, settled: true }
    k = text.indexOf('-----END ', k + 1)
  }
  // no footer: header plus the body run, unless more text could still bring the footer
  let e = bodyStart
  while (e < limit) {
    const c = text.charCodeAt(e)
    if (c >= 128 || BODY[c] !== 1) break
    e++
  }
  return { span: { start: s, end: e }, settled: s + PK_REACH <= n }
}

export function privateKeyDetector (): Detector {
  const HEADER = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/y
  const FOOTER = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/y
  return {
    entity: 'secret',
    lookbehind: 0,
    reach: PK_REACH,
    find (text, from, limit) {
      let s = text.indexOf(BEGIN, from)
      while (s >= 0 && s < limit) {
        const r = privateKeyAt(HEADER, FOOTER, text, s)
        if (r.span !== null) return r.span
        s = text.indexOf(BEGIN, s + 1)
      }
      return null
    },
    holdFrom (text, from) {
      const n = text.length
      let s = text.indexOf(BEGIN, Math.max(from, n - PK_REACH))
      while (s >= 0) {
        if (!privateKeyAt(HEADER, FOOTER, text, s).settled) return s
        s = text.indexOf(BEGIN, s + 1)
      }
      // a header that has only begun to arrive
      for (let i = Math.max(from, n - BEGIN.length + 1); i < n; i++) {
        if (text.charCodeAt(i) === 45 && BEGIN.startsWith(text.slice(i))) return i
      }
      return n
    },
    normalize: (v) => v
  }
}
