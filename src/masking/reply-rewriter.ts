// A rewriter turns each parsed reply object (an NDJSON line, an SSE event's data, a JSON document)
// into the objects to send in its place, holding masked-stream state between them.
import type { Obj } from './fields.js'

export interface ReplyRewriter {
  /** objects to send for this one, in order (usually the object itself, masked) */
  next(obj: Obj): Obj[]
  /**
   * an NDJSON line read without parsing it, when it is one of the few fixed shapes the rewriter
   * knows (ollama/token-line.ts): the text to send in its place, exactly what next() would give for
   * the parsed line; null for any other line
   */
  tokenLine?(line: string): string | null
  /** the stream is closing: objects carrying text still held back, if any */
  end(): Obj[]
}
