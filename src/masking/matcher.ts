// Masking a text: every detector reports every position where one of its matches starts, then
// overlapping matches are merged: the earliest (then longest, then first-listed) names the span, and
// any match overlapping it widens it, so a value that overlaps another is never left half visible.
// The streaming masker runs these same steps on a sliding window; see stream-masker.ts.
import type { Detector } from './detectors/types.js'
import type { Tokenizer } from './token.js'

export interface Found { start: number, end: number, det: number }

/** Merges overlapping matches into spans named by their earliest, then longest, then first-listed match. */
export function settle (found: Found[]): Found[] {
  found.sort((a, b) => a.start - b.start || b.end - a.end || a.det - b.det)
  const out: Found[] = []
  let cur: Found | null = null
  for (const f of found) {
    if (cur !== null && f.start < cur.end) {
      if (f.end > cur.end) cur.end = f.end
      continue
    }
    cur = { start: f.start, end: f.end, det: f.det }
    out.push(cur)
  }
  return out
}

/** text[from, to) with each chosen match replaced by its token; counts each by entity. */
export function render (
  text: string, from: number, to: number, chosen: readonly Found[], detectors: readonly Detector[],
  tokenize: Tokenizer, counts: Record<string, number> | undefined
): string {
  if (chosen.length === 0) return text.slice(from, to)
  let out = ''
  let at = from
  for (const f of chosen) {
    const det = detectors[f.det] as Detector
    out += text.slice(at, f.start) + tokenize(det.entity, det.normalize(text.slice(f.start, f.end)))
    if (counts !== undefined) counts[det.entity] = (counts[det.entity] ?? 0) + 1
    at = f.end
  }
  return out + text.slice(at, to)
}

/** The whole-text masking: the reference the streaming masker must reproduce for any chunking. */
export function maskWhole (
  text: string, detectors: readonly Detector[], tokenize: Tokenizer, counts?: Record<string, number>
): string {
  const found: Found[] = []
  const n = text.length
  detectors.forEach((det, i) => {
    let p = 0
    while (p < n) {
      const m = det.find(text, p, n)
      if (m === null) break
      found.push({ start: m.start, end: m.end, det: i })
      p = m.start + 1
    }
  })
  return render(text, 0, n, settle(found), detectors, tokenize, counts)
}
