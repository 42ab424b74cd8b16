// Reading Ollama's reply frames as JSON objects. A frame that is not a JSON object is a reply shape
// nobody downstream can read: it is refused, never passed through.
import { BadReply } from '../errors.js'

export type Obj = Record<string, unknown>

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export { BadReply }

/** A reply frame's JSON text as an object; anything else is refused. */
export function parseObject (text: string): Obj {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new BadReply('not JSON')
  }
  if (!isObj(v)) throw new BadReply('not a JSON object')
  return v
}
