// "did you mean …?" for a misspelt config key or value: the closest known word by edit distance
// (a swap of two neighbours counts as one edit), case-insensitive, when it is close enough to be a typo.

function distance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = v
    }
  }
  return at(a.length, b.length)
}

/**
 * The candidate `word` is most likely a typo of, or null when none is within a third of its length
 * (at least 1, at most 3 edits) with the same digits.
 */
export function closest (word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase()
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)))
  let best: string | null = null
  let bestDistance = Infinity
  const digits = (x: string): string => x.replace(/\D/g, '')
  for (const c of candidates) {
    // a different number is a choice (TLSv1.1), not a typo of another version
    if (digits(c) !== digits(word)) continue
    const n = distance(w, c.toLowerCase())
    if (n < bestDistance && n <= limit && c !== word) { best = c; bestDistance = n }
  }
  return best
}
