// A rewriter turns each parsed reply object (an NDJSON line, an SSE event's data, a JSON document)
// into the objects to send in its place, holding masked-stream state between them.
import type { Obj } from './fields.js'

export interface ReplyRewriter {
  /** objects to send for this one, in order (usually the object itself, masked) */
  next(obj: Obj): Obj[]
  /** the stream is closing: objects carrying text still held back, if any */
  end(): Obj[]
}
