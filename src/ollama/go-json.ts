// Reads a request body the way Ollama's Go `encoding/json` will: a strict JSON scanner over the raw
// bytes that returns the top-level object's members with their byte ranges, so the policy can find
// every spelling of a model field and re-serialize the body without touching anything else (no
// number rounding, no objects built from untrusted keys, no `__proto__` surprises).
//
// Go semantics reproduced here:
// - object keys match struct fields case-insensitively under Unicode simple folding: for the ASCII
//   field names Ollama uses that means ASCII case plus U+212A KELVIN SIGN (k) and U+017F LONG S (s);
//   U+0131/U+0130 (Turkish i) fold only to themselves in Go's tables
// - escapes are resolved; a lone surrogate escape or invalid UTF-8 becomes U+FFFD
// - the last duplicate wins (callers pick the last matching member)
// - nesting deeper than 10000 is an error
const MAX_DEPTH = 10000

export type JsonKind = 'string' | 'number' | 'object' | 'array' | 'true' | 'false' | 'null'

export interface JsonMember {
  /** the key as Go decodes it */
  key: string
  kind: JsonKind
  /** raw byte ranges [start, end) of the key token (with quotes) and of the value */
  keyStart: number
  keyEnd: number
  valueStart: number
  valueEnd: number
}

export type ScanResult =
  | { ok: true, kind: 'object', members: JsonMember[] }
  | { ok: true, kind: Exclude<JsonKind, 'object'> }
  | { ok: false, error: 'empty' | 'syntax' | 'depth' }

class ScanError extends Error {
  constructor (readonly reason: 'syntax' | 'depth') { super(reason) }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39
const isHex = (c: number | undefined): boolean =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))

function ws (b: Buffer, i: number): number {
  while (isWs(b[i])) i++
  return i
}

function kindAt (c: number | undefined): JsonKind {
  switch (c) {
    case QUOTE: return 'string'
    case 0x7b: return 'object'
    case 0x5b: return 'array'
    case 0x74: return 'true'
    case 0x66: return 'false'
    case 0x6e: return 'null'
    default:
      if (c === 0x2d || isDigit(c)) return 'number'
      throw new ScanError('syntax')
  }
}

/** Skips a string token starting at its opening quote; returns the index after the closing quote. */
function skipString (b: Buffer, i: number): number {
  if (b[i] !== QUOTE) throw new ScanError('syntax')
  i++
  for (;;) {
    const c = b[i]
    if (c === undefined || c < 0x20) throw new ScanError('syntax')
    if (c === QUOTE) return i + 1
    if (c === BACKSLASH) {
      const e = b[i + 1]
      if (e === 0x75) {
        if (!isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) throw new ScanError('syntax')
        i += 6
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 2
      } else {
        throw new ScanError('syntax')
      }
    } else {
      i++
    }
  }
}

function skipNumber (b: Buffer, i: number): number {
  if (b[i] === 0x2d) i++
  if (b[i] === 0x30) i++
  else if (isDigit(b[i])) while (isDigit(b[i])) i++
  else throw new ScanError('syntax')
  if (b[i] === 0x2e) {
    i++
    if (!isDigit(b[i])) throw new ScanError('syntax')
    while (isDigit(b[i])) i++
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++
    if (b[i] === 0x2b || b[i] === 0x2d) i++
    if (!isDigit(b[i])) throw new ScanError('syntax')
    while (isDigit(b[i])) i++
  }
  return i
}

function skipLiteral (b: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) throw new ScanError('syntax')
  return i + word.length
}

/** Skips one value (any depth, iteratively) starting at `i`; `depth` is the nesting it sits in. */
function skipValue (b: Buffer, i: number, depth: number): number {
  const stack: number[] = [] // 0x7d for an open object, 0x5d for an open array
  for (;;) {
    // a value starts at i
    i = ws(b, i)
    const c = b[i]
    let opened = false
    if (c === 0x7b || c === 0x5b) {
      if (depth + stack.length + 1 > MAX_DEPTH) throw new ScanError('depth')
      const close = c === 0x7b ? 0x7d : 0x5d
      stack.push(close)
      i = ws(b, i + 1)
      if (b[i] === close) { stack.pop(); i++ } else { opened = true }
      if (opened && close === 0x7d) i = memberKey(b, i)
      if (opened) continue
    } else {
      const kind = kindAt(c)
      if (kind === 'string') i = skipString(b, i)
      else if (kind === 'number') i = skipNumber(b, i)
      else i = skipLiteral(b, i, kind)
    }
    // after a value: close containers or move to the next element
    for (;;) {
      const close = stack[stack.length - 1]
      if (close === undefined) return i
      i = ws(b, i)
      if (b[i] === 0x2c) {
        i = ws(b, i + 1)
        if (close === 0x7d) i = memberKey(b, i)
        break
      }
      if (b[i] !== close) throw new ScanError('syntax')
      stack.pop()
      i++
    }
  }
}

/** Skips `"key" :` and returns the index where the member's value starts. */
function memberKey (b: Buffer, i: number): number {
  i = ws(b, skipString(b, i))
  if (b[i] !== 0x3a) throw new ScanError('syntax')
  return i + 1
}

/** Scans a whole body: the top-level object's members, or the kind of the non-object value. */
export function scanBody (b: Buffer): ScanResult {
  try {
    let i = ws(b, 0)
    if (i >= b.length) return { ok: false, error: 'empty' }
    if (b[i] !== 0x7b) {
      const kind = kindAt(b[i]) as Exclude<JsonKind, 'object'>
      i = ws(b, skipValue(b, i, 0))
      if (i !== b.length) throw new ScanError('syntax')
      return { ok: true, kind }
    }
    const members: JsonMember[] = []
    i = ws(b, i + 1)
    if (b[i] === 0x7d) {
      i++
    } else {
      for (;;) {
        const keyStart = i
        const keyEnd = skipString(b, i)
        i = ws(b, keyEnd)
        if (b[i] !== 0x3a) throw new ScanError('syntax')
        const valueStart = ws(b, i + 1)
        const kind = kindAt(b[valueStart])
        const valueEnd = skipValue(b, valueStart, 1)
        members.push({ key: decodeString(b, keyStart, keyEnd), kind, keyStart, keyEnd, valueStart, valueEnd })
        i = ws(b, valueEnd)
        if (b[i] === 0x2c) { i = ws(b, i + 1); continue }
        if (b[i] === 0x7d) { i++; break }
        throw new ScanError('syntax')
      }
    }
    if (ws(b, i) !== b.length) throw new ScanError('syntax')
    return { ok: true, kind: 'object', members }
  } catch (err) {
    if (err instanceof ScanError) return { ok: false, error: err.reason }
    throw err
  }
}

// keeps a BOM inside a string as a character instead of dropping it, as Go does
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/** Decodes a string token [start, end) (quotes included) as Go does: escapes resolved, bad UTF-8 and lone surrogates → U+FFFD. */
export function decodeString (b: Buffer, start: number, end: number): string {
  let out = ''
  let run = start + 1
  let i = run
  const last = end - 1
  while (i < last) {
    if (b[i] !== BACKSLASH) { i++; continue }
    out += utf8.decode(b.subarray(run, i))
    const e = b[i + 1]
    if (e === 0x75) {
      const unit = parseInt(b.toString('latin1', i + 2, i + 6), 16)
      i += 6
      if (unit >= 0xd800 && unit <= 0xdbff && b[i] === BACKSLASH && b[i + 1] === 0x75) {
        const low = parseInt(b.toString('latin1', i + 2, i + 6), 16)
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low)
          i += 6
          run = i
          continue
        }
      }
      out += unit >= 0xd800 && unit <= 0xdfff ? '\ufffd' : String.fromCharCode(unit)
    } else {
      out += ESCAPES[e as number] ?? ''
      i += 2
    }
    run = i
  }
  return out + utf8.decode(b.subarray(run, last))
}

const ESCAPES: Record<number, string> = {
  0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t'
}

/** Go's fold of one code point, as far as it matters for comparing against ASCII field names. */
function goFold (cp: number): number {
  if (cp >= 0x61 && cp <= 0x7a) return cp - 0x20
  if (cp === 0x212a) return 0x4b // KELVIN SIGN folds with k
  if (cp === 0x017f) return 0x53 // LATIN SMALL LETTER LONG S folds with s
  return cp
}

/** True when Go's encoding/json would decode a member named `key` into the field tagged `field` (ASCII). */
export function goKeyMatches (key: string, field: string): boolean {
  let k = 0
  for (const ch of key) {
    if (k >= field.length) return false
    if (goFold(ch.codePointAt(0) as number) !== goFold(field.charCodeAt(k))) return false
    k++
  }
  return k === field.length
}

/**
 * True when `key` is not `field` for Go but could pass for it under looser rules (compatibility
 * forms, other case mappings, invisible characters): another JSON decoder, a future Go or a human
 * might read it as the field, so the policy refuses it instead of guessing.
 */
export function looksLikeKey (key: string, field: string): boolean {
  if (goKeyMatches(key, field)) return false
  if (/^[\x20-\x7e]*$/.test(key)) return false
  const loose = key.normalize('NFKD').replace(/[\p{M}\p{Cf}]/gu, '').toUpperCase().toLowerCase().normalize('NFKC')
  return loose === field.toLowerCase()
}
