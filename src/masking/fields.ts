// Small helpers for masking text held in parsed JSON replies and requests.
export type Obj = Record<string, unknown>
export type MaskFn = (text: string) => string

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Masks the string at obj[key], if it is one. */
export function maskField (obj: Obj, key: string, mask: MaskFn): void {
  const v = obj[key]
  if (typeof v === 'string') obj[key] = mask(v)
}

/**
 * Masks every string (and every number whose digits are a match) inside a JSON value, e.g. tool-call
 * arguments. Object keys are parameter names the client defined, so they are kept.
 */
export function maskDeep (value: unknown, mask: MaskFn): unknown {
  if (typeof value === 'string') return mask(value)
  if (typeof value === 'number') {
    const s = String(value)
    const m = mask(s)
    return m === s ? value : m
  }
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask))
  if (isObj(value)) {
    const out: Obj = {}
    for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, mask)
    return out
  }
  return value
}

/** Tool-call arguments as OpenAI sends them (a JSON text) or Ollama does (an object). */
export function maskArguments (args: unknown, mask: MaskFn): unknown {
  if (typeof args !== 'string') return maskDeep(args, mask)
  try {
    const parsed: unknown = JSON.parse(args)
    if (typeof parsed === 'object' && parsed !== null) return JSON.stringify(maskDeep(parsed, mask))
  } catch { /* not JSON: mask it as text */ }
  return mask(args)
}

/** Masks `{"error":"…"}` and `{"error":{"message":"…"}}` in place; true when obj is an error. */
export function maskError (obj: Obj, mask: MaskFn): boolean {
  if (!('error' in obj)) return false
  const e = obj.error
  if (typeof e === 'string') obj.error = mask(e)
  else if (isObj(e)) maskField(e, 'message', mask)
  return true
}
