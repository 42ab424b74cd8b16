// A non-streamed reply ("stream": false): one JSON document, masked as a whole. A document the
// masker cannot parse or read (not JSON, not an object, a text field of another shape, past the size
// bound) is refused with errors.UPSTREAM_BAD_REPLY, which the app's error handler turns into a 502
// in the route's shape: the body never goes out with Ollama's status as if it were the reply.
import { errors } from '../errors.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../ollama/framing.js'
import { extractUsage, recordUsage, type TokenUsage } from '../ollama/usage.js'
import type { ReplyKind } from '../ollama/routes.js'
import { parseObject, type Obj } from './fields.js'

/** Masks one document: bytes in, masked bytes out, usage recorded; throws UPSTREAM_BAD_REPLY on a document it cannot read. */
export function maskDocumentBytes (kind: ReplyKind, body: Buffer, usage: TokenUsage, mask: (obj: Obj) => Obj): Buffer {
  try {
    if (body.length > DEFAULT_MAX_FRAME_BYTES) throw new Error('document too large')
    const obj = parseObject(body.toString('utf8'))
    recordUsage(usage, extractUsage(kind, obj))
    return Buffer.from(JSON.stringify(mask(obj)))
  } catch {
    throw new errors.UPSTREAM_BAD_REPLY()
  }
}
