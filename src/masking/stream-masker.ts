// Streaming masking with a bounded hold-back.
//
// Detectors read the text's view (normalize.ts), which grows unit by unit as raw text arrives; a
// unit cut short by the end of a chunk (a trailing `\`, `\u00`, a high surrogate) waits for the
// next chunk. Positions below are view positions; what is released is the raw text they came from,
// cut only between units.
//
// The masker keeps a window: a little already-released raw text (context for lookbehinds) and the
// text not yet released. On each push every detector says from which position on its answer could
// still change with more text (`holdFrom`: where, in the run of characters at the end that could
// still grow into a match, a match could start; at most the detector's reach back). Detector matches
// starting before that are final and are remembered, so no position is scanned twice to a final
// answer. The release point is the smallest such position, moved back to the start of any final
// match that crosses it (overlapping matches are merged, so a span never crosses it either). Everything
// before it is masked and released at once; the rest is held. Because every decision before the
// release point is the one the whole text would give, the concatenated output equals
// maskWhole(whole text) for every chunking, and a value is never released before it is masked.
//
// Hold-back bound: in prose, the trailing run of characters that could belong to an entity (usually
// the last partial word or number); never more than about twice the largest reach among the
// enabled detectors (see docs/masking.md for the numbers).
import type { Detector } from './detectors/types.js'
import { render, settle, type Found } from './matcher.js'
import { needsView, type Normalizer, type ViewTable } from './normalize.js'
import type { Tokenizer } from './token.js'

export interface StreamMasker {
  /** masks and returns what can be released now (often everything but the last partial word) */
  push(chunk: string): string
  /** releases everything still held: call once at the end of the text */
  flush(): string
}

/** Whether a unit table maps raw (from absolute position origin) to itself, character for character. */
function isIdentity (t: ViewTable, raw: string, origin: number): boolean {
  if (t.view !== raw) return false
  for (let i = 0; i < t.start.length; i++) if (t.start[i] !== origin + i || t.end[i] !== origin + i + 1) return false
  return true
}

export function createStreamMasker (
  detectors: readonly Detector[], tokenize: Tokenizer, counts: Record<string, number>, norm: Normalizer
): StreamMasker {
  const context = detectors.reduce((m, d) => Math.max(m, d.lookbehind), 0)
  // raw window: raw[0, rawBase) was released already and is kept as context; raw[0] is the stream's
  // character number `origin`. While `table` is null the view is raw itself (the fast path);
  // otherwise table holds the view of raw[0, done) and raw[done, …) is a unit still cut short.
  let raw = ''
  let origin = 0
  let rawBase = 0
  let done = 0
  let table: ViewTable | null = null
  let base = 0 // view position of the release point
  const cursor = detectors.map(() => 0) // where each detector's scan resumes (view window coordinates)
  const found: Found[][] = detectors.map(() => [])

  const advance = (final: boolean): string => {
    const text = table === null ? raw : table.view
    const n = text.length
    let cut = n
    if (base < n) {
      for (let i = 0; i < detectors.length; i++) {
        const det = detectors[i] as Detector
        const open = final ? n : det.holdFrom(text, base)
        const list = found[i] as Found[]
        let p = cursor[i] as number
        while (p < open) {
          const m = det.find(text, p, open)
          if (m === null) {
            p = open
            break
          }
          list.push({ start: m.start, end: m.end, det: i })
          p = m.start + 1
        }
        cursor[i] = p
        if (open < cut) cut = open
      }
    }
    // never cut through a final match (the whole text would mask it as one value), nor through a unit
    for (let moved = true; moved;) {
      moved = false
      for (const list of found) {
        for (const f of list) {
          if (f.start < cut && f.end > cut) {
            cut = f.start
            moved = true
          }
        }
      }
      if (table !== null) {
        while (cut > base && cut < n && table.start[cut] === table.start[cut - 1]) {
          cut--
          moved = true
        }
      }
    }
    if (cut < base) return ''
    const rawAt = (v: number): number => table === null ? v : v < n ? (table.start[v] as number) - origin : done
    const rawCut = rawAt(cut)
    if (rawCut <= rawBase) return ''
    const ready: Found[] = []
    for (const list of found) {
      let k = 0
      while (k < list.length && (list[k] as Found).start < cut) ready.push(list[k++] as Found)
      if (k > 0) list.splice(0, k)
    }
    const map = table === null ? null : { start: table.start, end: table.end, shift: origin }
    const out = render(raw, rawBase, rawCut, settle(ready), text, map, detectors, tokenize, counts)
    // slide the window: keep `context` released view characters (and their raw text) before the cut
    const keepFrom = Math.max(0, cut - context)
    const rawKeep = keepFrom === cut ? rawCut : rawAt(keepFrom)
    raw = raw.slice(rawKeep)
    origin += rawKeep
    done -= rawKeep
    rawBase = rawCut - rawKeep
    if (keepFrom > 0) {
      for (let i = 0; i < cursor.length; i++) cursor[i] = (cursor[i] as number) - keepFrom
      for (const list of found) for (const f of list) { f.start -= keepFrom; f.end -= keepFrom }
      if (table !== null) {
        table.view = table.view.slice(keepFrom)
        table.start.splice(0, keepFrom)
        table.end.splice(0, keepFrom)
      }
    }
    base = cut - keepFrom
    // back to the fast path once the window is plain again
    if (table !== null && done === raw.length && isIdentity(table, raw, origin)) table = null
    return out
  }

  return {
    push (chunk) {
      if (chunk.length === 0) return ''
      if (table === null && !needsView(chunk)) {
        raw += chunk
        return advance(false)
      }
      if (table === null) {
        table = { view: raw, start: [], end: [] }
        for (let i = 0; i < raw.length; i++) {
          table.start.push(origin + i)
          table.end.push(origin + i + 1)
        }
        done = raw.length
      }
      raw += chunk
      done = norm.units(raw, done, false, table, origin)
      return advance(false)
    },
    flush () {
      if (table !== null) done = norm.units(raw, done, true, table, origin)
      const out = advance(true)
      const n = table === null ? raw.length : table.view.length
      for (let i = 0; i < cursor.length; i++) cursor[i] = n
      base = n
      return out
    }
  }
}
