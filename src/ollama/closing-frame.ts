// Holds back a stream's closing frame — Ollama's `"done":true` line (NDJSON) or `data: [DONE]`
// (SSE) — so that, with audit.failClosed, the audit event is on disk before the client sees the
// stream end cleanly. Everything else passes at once, except the bytes of a frame not yet complete
// (Ollama writes whole lines, so in practice nothing waits). Pure: bytes in, bytes out.
import { isDoneData, sseDataOf } from './framing.js'

export interface ClosingFrameHolder {
  /** bytes that may go to the client now */
  push: (chunk: Buffer) => Buffer
  /** the held closing frame and anything after it (empty when none was seen) */
  held: () => Buffer
}

const NL = 0x0a
const CR = 0x0d

function isClosingLine (line: Buffer): boolean {
  // every streamed line has "done"; only the last has it true — a cheap byte search first
  if (!line.includes('true')) return false
  const text = line.toString('utf8')
  if (!/"done"\s*:\s*true/.test(text)) return false
  try {
    const v = JSON.parse(text) as { done?: unknown } | null
    return v !== null && typeof v === 'object' && v.done === true
  } catch {
    return false
  }
}

/** the event's data (its `data:` lines joined, as the SSE splitter reads them) is `[DONE]`, whatever other lines it has */
function isDoneEvent (event: Buffer): boolean {
  if (!event.includes('[DONE]')) return false
  const data: string[] = []
  for (const line of event.toString('utf8').split(/\r?\n/)) {
    const value = sseDataOf(line)
    if (value !== null) data.push(value)
  }
  return data.length > 0 && isDoneData(data.join('\n'))
}

export function createClosingFrameHolder (framing: 'ndjson' | 'sse'): ClosingFrameHolder {
  let partial = Buffer.alloc(0)
  const tail: Buffer[] = [] // the closing frame and whatever followed it
  let closed = false

  /** splits off complete frames: NDJSON lines end in \n, SSE events in a blank line */
  const frames = (buf: Buffer): { complete: Buffer[], rest: Buffer } => {
    const complete: Buffer[] = []
    let start = 0
    for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, i + 1)) {
      if (framing === 'ndjson') { complete.push(buf.subarray(start, i + 1)); start = i + 1; continue }
      // SSE: an event ends at an empty line ("\n\n" or "\n\r\n")
      const next = buf[i + 1]
      if (next === NL) {
        complete.push(buf.subarray(start, i + 2)); start = i + 2; i++
      } else if (next === 0x0d && buf[i + 2] === NL) {
        complete.push(buf.subarray(start, i + 3)); start = i + 3; i += 2
      }
    }
    return { complete, rest: buf.subarray(start) }
  }

  /** the chunk ends where a frame ends: a line's \n (NDJSON), an empty line (SSE) */
  const endsAtFrame = (c: Buffer): boolean => {
    const n = c.length
    if (n === 0 || c[n - 1] !== NL) return false
    return framing === 'ndjson' || c[n - 2] === NL || (c[n - 2] === CR && c[n - 3] === NL)
  }
  /** the closing frame's marker, which every closing frame holds: a cheap byte search */
  const marker = framing === 'ndjson' ? 'true' : '[DONE]'

  return {
    push (chunk) {
      if (closed) { tail.push(chunk); return Buffer.alloc(0) }
      // the common chunk (Ollama writes whole frames): whole frames, none of them the closing one,
      // passes as it is, without being split
      if (partial.length === 0 && endsAtFrame(chunk) && !chunk.includes(marker)) return chunk
      const { complete, rest } = frames(partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk)
      const out: Buffer[] = []
      for (const f of complete) {
        if (!closed && (framing === 'ndjson' ? isClosingLine(f) : isDoneEvent(f))) closed = true
        ;(closed ? tail : out).push(f)
      }
      if (closed) { if (rest.length > 0) tail.push(Buffer.from(rest)); partial = Buffer.alloc(0) } else partial = Buffer.from(rest)
      return out.length === 1 ? out[0] as Buffer : Buffer.concat(out)
    },
    held: () => Buffer.concat([...tail, partial])
  }
}
