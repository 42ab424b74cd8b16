// Canonical JSON: sorted keys at every level, no whitespace, undefined members left out. Hashed
// by the audit chain and its checkpoints, and by the configuration hash.

/**
 * Whether JSON.stringify already writes `v` canonically: plain objects whose keys are in sorted
 * order at every level, arrays, and JSON primitives (undefined members are left out by both). Audit
 * events are built in that order, so the hot path is one native JSON.stringify, not a rebuild.
 */
export function stringifiesCanonically (v: unknown): boolean {
  if (v === null) return true
  const t = typeof v
  if (t !== 'object') return t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined'
  if (Array.isArray(v)) {
    for (const x of v) if (!stringifiesCanonically(x)) return false
    return true
  }
  // a Date, Map or class instance (toJSON, hidden state) goes the long way
  const proto: unknown = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  let prev: string | null = null
  for (const k of Object.keys(v as object)) {
    if (prev !== null && !(prev < k)) return false
    prev = k
    if (!stringifiesCanonically((v as Record<string, unknown>)[k])) return false
  }
  return true
}

/** Sorted keys at every level, no whitespace: the same value always gives the same bytes. */
export function canonicalJson (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (stringifiesCanonically(v)) return JSON.stringify(v)
  if (Array.isArray(v)) {
    let out = '['
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(v[i])
    return out + ']'
  }
  const o = v as Record<string, unknown>
  const keys = Object.keys(o).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const x = o[k]
    if (x === undefined) continue
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(x)
    first = false
  }
  return out + '}'
}
