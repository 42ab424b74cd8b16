// Streaming masking with a bounded hold-back.
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
import type { Tokenizer } from './token.js'

export interface StreamMasker {
  /** masks and returns what can be released now (often everything but the last partial word) */
  push(chunk: string): string
  /** releases everything still held: call once at the end of the text */
  flush(): string
}

export function createStreamMasker (
  detectors: readonly Detector[], tokenize: Tokenizer, counts: Record<string, number>
): StreamMasker {
  const context = detectors.reduce((m, d) => Math.max(m, d.lookbehind), 0)
  let text = '' // window: text[0, base) was released already and is kept as lookbehind context
  let base = 0
  const cursor = detectors.map(() => 0) // where each detector's scan resumes (window coordinates)
  const found: Found[][] = detectors.map(() => [])

  const advance = (final: boolean): string => {
    const n = text.length
    if (base === n) return ''
    let cut = n
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
    // never cut through a final match: the whole text would mask it as one value
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
    }
    if (cut <= base) return ''
    const ready: Found[] = []
    for (const list of found) {
      let k = 0
      while (k < list.length && (list[k] as Found).start < cut) ready.push(list[k++] as Found)
      if (k > 0) list.splice(0, k)
    }
    const out = render(text, base, cut, settle(ready), detectors, tokenize, counts)
    // slide the window: keep `context` released characters before the cut
    const keepFrom = Math.max(0, cut - context)
    if (keepFrom > 0) {
      text = text.slice(keepFrom)
      for (let i = 0; i < cursor.length; i++) cursor[i] = (cursor[i] as number) - keepFrom
      for (const list of found) for (const f of list) { f.start -= keepFrom; f.end -= keepFrom }
    }
    base = cut - keepFrom
    return out
  }

  return {
    push (chunk) {
      if (chunk.length === 0) return ''
      text += chunk
      return advance(false)
    },
    flush () {
      const out = advance(true)
      text = text.slice(Math.max(0, text.length - context))
      for (let i = 0; i < cursor.length; i++) cursor[i] = text.length
      base = text.length
      return out
    }
  }
}
