// What every detector provides. Matching is defined position by position so that masking a stream
// in pieces gives exactly the masking of the whole text (see docs/masking.md, "streaming"):
//  - the result at a start position s (a match or none) depends only on text[s - lookbehind, s + reach)
//    and, inside that window, reads no further than the first character that cannot be part of a match
//    (plus what `reach` allows for lookaheads);
//  - `find` returns the leftmost s >= from (s < limit) whose result is a match;
//  - `holdFrom` returns the first position whose result could still change if more text arrived.
export interface Span { start: number, end: number }

export interface Detector {
  /** config name of the entity (`ssn`, `credit_card`, a custom name); tokens use it upper-cased */
  readonly entity: string
  /** characters of preceding context a match decision may read */
  readonly lookbehind: number
  /** upper bound on how far past a start position a decision may read (match length + lookahead) */
  readonly reach: number
  find(text: string, from: number, limit: number): Span | null
  /** first position >= from whose result is not yet settled by text (text.length is where input stops for now) */
  holdFrom(text: string, from: number): number
  /** canonical form of a matched value, hashed into the token (so 123-45-6789 and 123 45 6789 agree) */
  normalize(value: string): string
}

/** A lookup table over ASCII for "can this character be part of a match". */
export function charTable (chars: string): Uint8Array {
  const t = new Uint8Array(128)
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1
  return t
}

export const DIGITS = '0123456789'
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
export const LOWER = 'abcdefghijklmnopqrstuvwxyz'

/** Whether a match could start at s: its first characters can begin one (or are all there is so far). */
export type StartTest = (text: string, s: number) => boolean

/** Start test from a set of possible first characters, and characters a match never follows. */
export function firstCharStart (chars: string, notAfter = ''): StartTest {
  const t = charTable(chars)
  const before = charTable(notAfter)
  return (text, s) => {
    const c = text.charCodeAt(s)
    if (c >= 128 || t[c] !== 1) return false
    const p = s > 0 ? text.charCodeAt(s - 1) : 128
    return p >= 128 || before[p] !== 1
  }
}

/** Start test from literal prefixes: the text at s begins one, or is a beginning of one at the end. */
function prefixStart (prefixes: readonly string[]): StartTest {
  return (text, s) => prefixes.some((p) => text.startsWith(p, s) || (text.length - s < p.length && p.startsWith(text.slice(s))))
}

/**
 * The settled-position bound for detectors whose matches use only characters in `table`: a start
 * position is open only while the run of such characters reaching the end of the text could still
 * grow into a match, and never further back than `reach`. Positions in that run where no match can
 * start (a space before a number, a letter before "eyJ") are settled already and not held.
 */
export function trailingRunHold (table: Uint8Array, reach: number, text: string, from: number, canStart: StartTest): number {
  const n = text.length
  const floor = Math.max(from, n - reach)
  let i = n
  while (i > floor) {
    const c = text.charCodeAt(i - 1)
    if (c >= 128 || table[c] !== 1) break
    i--
  }
  while (i < n && !canStart(text, i)) i++
  return i
}

/** A detector built from one global regex plus an optional check of the matched text. */
export function regexDetector (opts: {
  entity: string
  pattern: RegExp
  chars: string
  /** what a match can begin with: first characters, or literal prefixes */
  starts: { chars: string, notAfter?: string } | { prefixes: readonly string[] }
  reach: number
  lookbehind: number
  /** length of the accepted match (the whole value, or a shorter prefix the rule allows), or -1 */
  accept?: (value: string) => number
  normalize?: (value: string) => string
}): Detector {
  const re = new RegExp(opts.pattern.source, opts.pattern.flags.includes('g') ? opts.pattern.flags : opts.pattern.flags + 'g')
  const table = charTable(opts.chars)
  const canStart = 'chars' in opts.starts ? firstCharStart(opts.starts.chars, opts.starts.notAfter) : prefixStart(opts.starts.prefixes)
  const accept = opts.accept
  return {
    entity: opts.entity,
    lookbehind: opts.lookbehind,
    reach: opts.reach,
    find (text, from, limit) {
      re.lastIndex = from
      for (;;) {
        const m = re.exec(text)
        if (m === null || m.index >= limit) return null
        const value = m[0]
        const len = accept === undefined ? value.length : accept(value)
        if (len > 0) return { start: m.index, end: m.index + len }
        re.lastIndex = m.index + 1
      }
    },
    holdFrom: (text, from) => trailingRunHold(table, opts.reach, text, from, canStart),
    normalize: opts.normalize ?? ((v) => v)
  }
}

export const digitsOnly = (v: string): string => v.replace(/\D/g, '')

/** `accept` for a yes/no rule on the whole match. */
export const whole = (rule: (value: string) => boolean) => (value: string): number => rule(value) ? value.length : -1
