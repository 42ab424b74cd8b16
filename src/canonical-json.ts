// Canonical JSON: sorted keys at every level, no whitespace, undefined members left out. Hashed
// by the audit chain and its checkpoints, and by the configuration hash.

/** Sorted keys at every level, no whitespace: the same value always gives the same bytes. */
export function canonicalJson (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
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
