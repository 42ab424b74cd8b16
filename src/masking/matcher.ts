// Masking a text: detectors read its view (normalize.ts: escapes decoded, compatibility forms folded,
// format characters gone), and each match replaces the raw characters it came from. On the view,
// every detector reports every position where one of its matches starts, then
// overlapping matches are merged: the earliest (then longest, then first-listed) names the span, and
// any match overlapping it widens it, so a value that overlaps another is never left half visible.
// The streaming masker runs these same steps on a sliding window; see stream-masker.ts.
import type { Detector } from './detectors/types.js'
import type { Tokenizer } from './token.js'
import { needsView, viewTable, type Normalizer } from './normalize.js'

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

/** Where each view character's unit lies in the raw text: raw index = start[i] - shift. */
export interface RawMap { start: readonly number[], end: readonly number[], shift: number }

/**
 * raw[from, to) with each chosen match (in view coordinates; `map` null when the view is the raw
 * text itself) replaced by its token, the token taken over the view's characters; counts each by
 * entity. A match covers whole units: the raw characters the model wrote for it.
 */
export function render (
  raw: string, from: number, to: number, chosen: readonly Found[], view: string, map: RawMap | null,
  detectors: readonly Detector[], tokenize: Tokenizer, counts: Record<string, number> | undefined
): string {
  if (chosen.length === 0) return raw.slice(from, to)
  let out = ''
  let at = from
  for (const f of chosen) {
    const det = detectors[f.det] as Detector
    let s = f.start
    let e = f.end
    if (map !== null) {
      s = (map.start[f.start] as number) - map.shift
      e = (map.end[f.end - 1] as number) - map.shift
    }
    // two matches inside one unit's view (an expansion such as "⑴"): the unit goes once
    out += raw.slice(at, Math.max(at, s)) + tokenize(det.entity, det.normalize(view.slice(f.start, f.end)))
    if (counts !== undefined) counts[det.entity] = (counts[det.entity] ?? 0) + 1
    at = Math.max(at, e)
  }
  return out + raw.slice(at, to)
}

/** Every match of every detector in text (all start positions), settled. */
function matches (text: string, detectors: readonly Detector[]): Found[] {
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
  return settle(found)
}

/** The whole-text masking: the reference the streaming masker must reproduce for any chunking. */
export function maskWhole (
  text: string, detectors: readonly Detector[], tokenize: Tokenizer, norm: Normalizer, counts?: Record<string, number>
): string {
  if (!needsView(text)) return render(text, 0, text.length, matches(text, detectors), text, null, detectors, tokenize, counts)
  const t = viewTable(norm, text)
  return render(text, 0, text.length, matches(t.view, detectors), t.view, { start: t.start, end: t.end, shift: 0 },
    detectors, tokenize, counts)
}
