// E-mail addresses: a dot-atom local part (1–64 of A–Z a–z 0–9 . _ % + -), "@", then 1–8 DNS labels
// (letters, digits, inner hyphens, up to 63 each) and a 2–24 letter top-level domain. The local part
// starts at a boundary (not after another local-part character); the domain ends where no further
// label character follows. ASCII only; compared case-insensitively for the token.
import { DIGITS, LOWER, UPPER, charTable, regexDetector, type Detector } from './types.js'

const LOCAL = 64
const LABEL = 63
const LABELS = 8
const TLD = 24

export function emailDetector (): Detector {
  const det = regexDetector({
    entity: 'email',
    pattern: new RegExp(
      `(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,${LOCAL}}@` +
      `(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,${LABEL - 2}}[A-Za-z0-9])?\\.){1,${LABELS}}[A-Za-z]{2,${TLD}}(?![A-Za-z0-9-])`, 'g'),
    chars: UPPER + LOWER + DIGITS + '._%+-@',
    starts: { chars: UPPER + LOWER + DIGITS + '._%+-' },
    reach: LOCAL + 1 + LABELS * (LABEL + 1) + TLD + 1,
    lookbehind: 1,
    normalize: (v) => v.toLowerCase()
  })
  return { ...det, holdFrom: (text, from) => emailHold(text, from, det.reach) }
}

const LOCAL_CHARS = charTable(UPPER + LOWER + DIGITS + '._%+-')
const RUN_CHARS = charTable(UPPER + LOWER + DIGITS + '._%+-@')
const inTable = (t: Uint8Array, c: number): boolean => c < 128 && t[c] === 1

/**
 * Tighter than a plain trailing run: a match starts only where a local part can start (after a
 * non-local character, i.e. at the run's start or right after an "@"), and only if an "@" follows
 * within 64 characters, or could still do so. A long run of letters or digits holds nothing back.
 */
function emailHold (text: string, from: number, reach: number): number {
  const n = text.length
  const floor = Math.max(from, n - reach)
  let r = n
  while (r > floor && inTable(RUN_CHARS, text.charCodeAt(r - 1))) r--
  const starts: number[] = []
  if (r < n && !(r > 0 && inTable(LOCAL_CHARS, text.charCodeAt(r - 1)))) starts.push(r)
  for (let i = r; i < n; i++) if (text.charCodeAt(i) === 64) starts.push(i + 1)
  for (const s of starts) {
    if (s >= n) break
    const at = text.indexOf('@', s)
    if (at >= 0 ? at > s && at - s <= LOCAL : n - s <= LOCAL) return s
  }
  return n
}
