// Entities defined in config (masking.custom[]): a regular expression with flags and a maxLength.
// To keep masking independent of how a stream is chunked, a custom pattern is tried at each start
// position against a bounded window: up to CUSTOM_LOOKBEHIND characters before it (for lookbehinds)
// and maxLength characters from it; the end of that window counts as end of input for `$`, `\b`
// and lookaheads. The leftmost non-empty match wins. Since nothing is known about which characters
// a custom pattern can use, the streaming hold-back for it is the full maxLength.
import type { Detector } from './types.js'

const CUSTOM_LOOKBEHIND = 64

export interface CustomEntity { name: string, pattern: string, flags: string, maxLength: number }

export function customDetector (def: CustomEntity): Detector {
  const flags = def.flags.replace(/[gy]/g, '') + 'y'
  const re = new RegExp(def.pattern, flags)
  const reach = def.maxLength
  const matchAt = (text: string, s: number): number => {
    const w0 = Math.max(0, s - CUSTOM_LOOKBEHIND)
    const window = text.slice(w0, Math.min(text.length, s + reach))
    re.lastIndex = s - w0
    const m = re.exec(window)
    return m === null || m[0].length === 0 ? -1 : s + m[0].length
  }
  return {
    entity: def.name,
    lookbehind: CUSTOM_LOOKBEHIND,
    reach,
    find (text, from, limit) {
      const last = Math.min(limit, text.length)
      for (let s = from; s < last; s++) {
        const e = matchAt(text, s)
        if (e > 0) return { start: s, end: e }
      }
      return null
    },
    holdFrom: (text, from) => Math.max(from, text.length - reach),
    normalize: (v) => v
  }
}
