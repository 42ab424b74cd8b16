// An event's line: what sinks write (its canonical form, what is hashed, is in canonical-json.ts).
// JSON.stringify escapes C0 controls; these are also escaped so that no line can hold a character
// a terminal, a log shipper or a JavaScript line splitter could take for a line or field break.
const EXTRA = /[\u007f-\u009f\u2028\u2029]/g

/** One line of JSON without its newline. The verifier demands a line be exactly this for its value. */
export function serializeLine (value: unknown): string {
  return escapeLineBreakers(JSON.stringify(value))
}

/** Escapes, in JSON text, the characters JSON.stringify leaves as they are but a line reader may split at. */
export function escapeLineBreakers (json: string): string {
  return json.replace(EXTRA, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}
