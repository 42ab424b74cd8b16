// The two byte forms of an event: its line (what sinks write) and its canonical form (what is hashed).

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

// JSON.stringify escapes C0 controls; these are also escaped so that no line can hold a character
// a terminal, a log shipper or a JavaScript line splitter could take for a line or field break.
const EXTRA = /[\u007f-\u009f\u2028\u2029]/g

/** One line of JSON without its newline. The verifier demands a line be exactly this for its value. */
export function serializeLine (value: unknown): string {
  return JSON.stringify(value).replace(EXTRA, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}
