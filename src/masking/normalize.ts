// The view detectors read: the text as its reader ends up with it, mapped back to the characters the
// model wrote. A client decodes JSON escapes (a `format: json` answer is parsed: `\u0040` is "@",
// `\n` a line break), and a reader sees fullwidth or other compatibility forms as the characters
// they stand for and does not see format characters. So the text is cut into units, left to right:
// a JSON escape (`\uXXXX`, an escaped surrogate pair, `\n`, `\"`, `\\`, …), a percent-encoded byte
// (`%40`), an HTML character reference (`&#64;`, `&#x40;`, `&commat;` and a few other names), a
// surrogate pair, or one character. Each unit becomes its view text on its own: format and
// default-ignorable characters vanish, anything else is compatibility-decomposed (NFKD) with its
// combining marks removed, recomposed (NFC), and dashes fold to "-". Since each unit is converted
// alone, the view of a text is the views of its units in order: text arriving in pieces gives the
// same view, provided a unit cut short by the end of a piece (a trailing `\`, `\u00`, `%4`, `&#6`,
// a high surrogate) waits for the next one.
//
// Pure ASCII without `\`, `%` or `&` is its own view (the fast path: no unit table at all).

/** Characters outside the fast path: anything not ASCII, and the backslash, `%` and `&` that begin escapes. */
const SLOW = /[\\%&\u0080-\uffff]/

/** Whether `text` needs a unit table (false: its view is itself, position for position). */
export const needsView = (text: string): boolean => SLOW.test(text)

export interface ViewTable {
  /** the view text */
  view: string
  /** for each view character, where the unit that produced it starts and ends in the raw text */
  start: number[]
  end: number[]
}

export interface Normalizer {
  /**
   * Cuts raw[from, …) into units, appending each unit's view to `into` (raw positions offset by
   * `origin`). Without `final` it stops before a unit the end of `raw` may still cut short.
   * Returns where it stopped.
   */
  units(raw: string, from: number, final: boolean, into: ViewTable, origin: number): number
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
/** HTML character references for the characters values are made of (numeric ones are read in full). */
const NAMED_REFS: Record<string, string> = {
  commat: '@', period: '.', hyphen: '-', dash: '-', minus: '-', lowbar: '_', plus: '+', percnt: '%', colon: ':',
  sol: '/', num: '#', amp: '&', nbsp: ' ', Hat: '^', excl: '!', quest: '?', equals: '=', lpar: '(', rpar: ')'
}
/** Longest reference read: `&#x10FFFF;` (10), `&percnt;` (8). */
const REF_MAX = 10
const REF = /^&(?:#(\d{1,7});|#[xX]([0-9a-fA-F]{1,6});|([A-Za-z]{2,6});)/
const REF_PREFIX = /^&(?:#\d{0,7}|#[xX][0-9a-fA-F]{0,6}|[A-Za-z]{0,6})$/
const IGNORED = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u
const MARKS = /\p{M}/gu
const DASHES = /[\p{Pd}\u2212]/gu
const CACHE_LIMIT = 4096

/**
 * The HTML character reference at i: its length and code point, 0 when the text ends before it can
 * be told (a prefix of one), or -1 when none starts there.
 */
function reference (raw: string, i: number, final: boolean, box: { code: number }): number {
  const head = raw.slice(i, i + REF_MAX)
  const m = REF.exec(head)
  if (m !== null) {
    let code: number
    if (m[1] !== undefined) code = parseInt(m[1], 10)
    else if (m[2] !== undefined) code = parseInt(m[2], 16)
    else {
      const name = m[3] as string
      if (!Object.hasOwn(NAMED_REFS, name)) return -1
      code = (NAMED_REFS[name] as string).charCodeAt(0)
    }
    if (code > 0x10ffff) return -1
    box.code = code
    return m[0].length
  }
  return !final && i + REF_MAX > raw.length && REF_PREFIX.test(head) ? 0 : -1
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/**
 * How many characters of a `\uXXXX` escape start at i (6 when complete, fewer when the text ends
 * first), or -1 once a character breaks it. The code is returned through `box` when complete.
 */
function uEscape (raw: string, i: number, box: { code: number }): number {
  const n = raw.length
  if (i >= n) return 0
  if (raw.charCodeAt(i) !== 92) return -1
  if (i + 1 >= n) return 1
  if (raw.charCodeAt(i + 1) !== 117) return -1
  for (let k = 2; k < 6; k++) {
    if (i + k >= n) return k
    if (!isHex(raw.charCodeAt(i + k))) return -1
  }
  box.code = parseInt(raw.slice(i + 2, i + 6), 16)
  return 6
}

/** Whether the `n` characters at i (a cut-short escape) can still become a low-surrogate escape. */
function couldBeLow (raw: string, i: number, n: number): boolean {
  return (n < 3 || /[dD]/.test(raw[i + 2] as string)) && (n < 4 || /[c-fC-F]/.test(raw[i + 3] as string))
}

export function createNormalizer (): Normalizer {
  // a unit's view depends only on its code point: remember the non-ASCII ones seen (bounded)
  const cache = new Map<number, string>()
  const viewOf = (cp: number): string => {
    if (cp < 128) return String.fromCharCode(cp)
    let v = cache.get(cp)
    if (v !== undefined) return v
    const s = String.fromCodePoint(cp)
    v = IGNORED.test(s) ? '' : s.normalize('NFKD').replace(MARKS, '').normalize('NFC').replace(DASHES, '-')
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(cp, v)
    return v
  }
  const box = { code: 0 }
  const low = { code: 0 }

  return {
    units (raw, from, final, into, origin) {
      const n = raw.length
      let i = from
      const emit = (v: string, len: number): void => {
        for (let k = 0; k < v.length; k++) {
          into.start.push(origin + i)
          into.end.push(origin + i + len)
        }
        into.view += v
        i += len
      }
      while (i < n) {
        const c = raw.charCodeAt(i)
        if (c === 92) {
          if (i + 1 >= n && !final) break
          const next = raw[i + 1]
          if (next !== undefined && Object.hasOwn(SIMPLE_ESCAPES, next)) {
            emit(viewOf((SIMPLE_ESCAPES[next] as string).charCodeAt(0)), 2)
            continue
          }
          const got = uEscape(raw, i, box)
          if (got !== 6) {
            if (got > 0 && !final) break // `\u00` at the end: the rest may still come
            emit('\\', 1)
            continue
          }
          const code = box.code
          if (isHigh(code)) {
            // an escaped surrogate pair is one character: wait for the low half if it may still come
            const got2 = uEscape(raw, i + 6, low)
            if (got2 === 6 && isLow(low.code)) {
              emit(viewOf(((code - 0xd800) << 10) + (low.code - 0xdc00) + 0x10000), 12)
              continue
            }
            if (!final && got2 >= 0 && got2 < 6 && couldBeLow(raw, i + 6, got2)) break
          }
          emit(isHigh(code) || isLow(code) ? String.fromCharCode(code) : viewOf(code), 6)
          continue
        }
        if (c === 37) {
          // percent-encoding (`%40`): the two hex digits may still come
          if (i + 2 >= n && !final && (i + 1 >= n || isHex(raw.charCodeAt(i + 1)))) break
          if (i + 2 < n && isHex(raw.charCodeAt(i + 1)) && isHex(raw.charCodeAt(i + 2))) {
            emit(viewOf(parseInt(raw.slice(i + 1, i + 3), 16)), 3)
            continue
          }
          emit('%', 1)
          continue
        }
        if (c === 38) {
          const got = reference(raw, i, final, box)
          if (got === 0) break
          if (got > 0) emit(box.code >= 0xd800 && box.code <= 0xdfff ? String.fromCharCode(box.code) : viewOf(box.code), got)
          else emit('&', 1)
          continue
        }
        if (c < 128) {
          // a run of plain ASCII: one unit per character, each its own view
          let j = i + 1
          while (j < n) {
            const d = raw.charCodeAt(j)
            if (d >= 128 || d === 92 || d === 37 || d === 38) break
            j++
          }
          into.view += raw.slice(i, j)
          for (let k = i; k < j; k++) {
            into.start.push(origin + k)
            into.end.push(origin + k + 1)
          }
          i = j
          continue
        }
        if (isHigh(c)) {
          if (i + 1 >= n && !final) break
          const d = raw.charCodeAt(i + 1)
          if (isLow(d)) {
            emit(viewOf(raw.codePointAt(i) as number), 2)
            continue
          }
          emit(raw[i] as string, 1)
          continue
        }
        emit(isLow(c) ? raw[i] as string : viewOf(c), 1)
      }
      return i
    }
  }
}

/** The whole text's view table (every unit complete). */
export function viewTable (norm: Normalizer, raw: string): ViewTable {
  const t: ViewTable = { view: '', start: [], end: [] }
  norm.units(raw, 0, true, t, 0)
  return t
}
