// Small statistics helpers: medians over runs, rounding for display.
export function median (xs) {
  const a = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((p, q) => p - q)
  if (a.length === 0) return null
  const m = a.length >> 1
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2
}

/** median of each numeric leaf over a list of same-shaped objects */
export function medianOf (objs) {
  const present = objs.filter((o) => o && typeof o === 'object')
  if (present.length === 0) return null
  const out = {}
  for (const k of Object.keys(present[0])) {
    const vals = present.map((o) => o[k])
    if (vals.every((v) => typeof v === 'number' || v === null)) out[k] = median(vals)
    else if (vals.some((v) => v && typeof v === 'object') && vals.every((v) => v == null || (typeof v === 'object' && !Array.isArray(v)))) out[k] = medianOf(vals.filter((v) => v != null))
    else if (vals.every((v) => typeof v === 'boolean')) out[k] = vals.every(Boolean)
  }
  return out
}

export const round = (x, digits = 2) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(digits)) : null)
export const fmt = (x, digits = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–')
