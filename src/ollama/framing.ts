// Incremental framers for streamed upstream replies: NDJSON lines and SSE events. They take Buffers
// split anywhere (inside a JSON line, inside a UTF-8 sequence, many lines per chunk) and hand back
// only complete frames, decoded as UTF-8. Splitting happens on the LF/CR bytes, which never occur
// inside a multi-byte UTF-8 sequence, so a frame is decoded only once all its bytes are there.
// Pure: no streams, no I/O; both the masker and the pass-through usage observer use them.

import { FrameTooLargeError } from '../errors.js'

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024

const LF = 0x0a
const CR = 0x0d

/** Splits bytes into lines (without their terminator). A trailing CR before LF is dropped. */
export interface LineSplitter {
  /** complete lines contained in what has arrived so far */
  push(chunk: Buffer): string[]
  /** whatever remains after the last terminator (an unterminated last line), or null */
  end(): string | null
}

export function createLineSplitter (maxLineBytes = DEFAULT_MAX_FRAME_BYTES, acceptCr = false): LineSplitter {
  let parts: Buffer[] = []
  let partBytes = 0
  // an SSE line may end with a lone CR; when a chunk ends in CR we wait to see if LF follows
  let pendingCr = false

  const take = (tail: Buffer): string => {
    const buf = parts.length === 0 ? tail : Buffer.concat([...parts, tail])
    parts = []
    partBytes = 0
    const end = buf.length > 0 && buf[buf.length - 1] === CR ? buf.length - 1 : buf.length
    // a complete line is bounded too, not only one still waiting for its end
    if (end > maxLineBytes) throw new FrameTooLargeError(maxLineBytes)
    return buf.toString('utf8', 0, end)
  }

  return {
    push (chunk) {
      const lines: string[] = []
      // nothing arrived: in particular, a CR that ended the last chunk still waits for its LF
      if (chunk.length === 0) return lines
      let start = 0
      if (pendingCr) {
        pendingCr = false
        if (chunk[0] === LF) start = 1
      }
      // the next terminator by a native byte search (indexOf), not a loop over every byte in JavaScript
      let lf = chunk.indexOf(LF, start)
      let cr = acceptCr ? chunk.indexOf(CR, start) : -1
      while (lf !== -1 || cr !== -1) {
        if (cr === -1 || (lf !== -1 && lf < cr)) {
          lines.push(take(chunk.subarray(start, lf)))
          start = lf + 1
        } else {
          lines.push(take(chunk.subarray(start, cr)))
          if (cr + 1 < chunk.length) {
            start = chunk[cr + 1] === LF ? cr + 2 : cr + 1
          } else {
            pendingCr = true
            start = cr + 1
          }
        }
        if (lf !== -1 && lf < start) lf = chunk.indexOf(LF, start)
        if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start)
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start)
        partBytes += rest.length
        if (partBytes > maxLineBytes) throw new FrameTooLargeError(maxLineBytes)
        parts.push(Buffer.from(rest))
      }
      return lines
    },
    end () {
      if (partBytes === 0) return null
      return take(Buffer.alloc(0))
    }
  }
}

/** NDJSON: one JSON document per line; blank lines are skipped. */
export interface NdjsonSplitter {
  push(chunk: Buffer): string[]
  /** an unterminated last line, if any (Ollama ends every line with LF, but a peer may not) */
  end(): string | null
}

export function createNdjsonSplitter (maxLineBytes = DEFAULT_MAX_FRAME_BYTES): NdjsonSplitter {
  const lines = createLineSplitter(maxLineBytes)
  const keep = (l: string): boolean => l.trim() !== ''
  return {
    push: (chunk) => lines.push(chunk).filter(keep),
    end: () => {
      const last = lines.end()
      return last !== null && keep(last) ? last : null
    }
  }
}

/** The value of an SSE `data:` line (one leading space dropped, as the standard says), or null for any other line. */
export function sseDataOf (line: string): string | null {
  if (!line.startsWith('data:')) return null
  return line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5)
}

/** Whether an SSE event's data is the stream's end marker, `[DONE]` (the one test every reader shares). */
export const isDoneData = (d: string): boolean => d.trim() === '[DONE]'

/** One SSE event: its `data:` lines joined by LF (null when it had none) and every other line as sent. */
export interface SseEvent {
  data: string | null
  /** non-data lines (comments, `event:`, `id:`, `retry:`) in order, verbatim */
  other: string[]
}

export interface SseSplitter {
  push(chunk: Buffer): SseEvent[]
  /** an event that was not closed by a blank line before the stream ended, if any */
  end(): SseEvent | null
}

/** SSE (WHATWG event-stream): lines end in LF, CRLF or CR; a blank line closes an event. */
export function createSseSplitter (maxEventBytes = DEFAULT_MAX_FRAME_BYTES): SseSplitter {
  const lines = createLineSplitter(maxEventBytes, true)
  let data: string[] = []
  let other: string[] = []
  let size = 0
  const close = (): SseEvent | null => {
    if (data.length === 0 && other.length === 0) return null
    const ev = { data: data.length > 0 ? data.join('\n') : null, other }
    data = []
    other = []
    size = 0
    return ev
  }
  const feed = (line: string, out: SseEvent[]): void => {
    if (line === '') {
      const ev = close()
      if (ev !== null) out.push(ev)
      return
    }
    size += line.length
    if (size > maxEventBytes) throw new FrameTooLargeError(maxEventBytes)
    const value = sseDataOf(line)
    if (value !== null) data.push(value)
    else other.push(line)
  }
  return {
    push (chunk) {
      const out: SseEvent[] = []
      for (const line of lines.push(chunk)) feed(line, out)
      return out
    },
    end () {
      const last = lines.end()
      const out: SseEvent[] = []
      if (last !== null) feed(last, out)
      return out[0] ?? close()
    }
  }
}

/** Serializes an event back to the wire, `data:` lines last, closed by a blank line. */
export function formatSseEvent (ev: SseEvent): string {
  let s = ''
  for (const l of ev.other) s += l + '\n'
  if (ev.data !== null) for (const l of ev.data.split('\n')) s += 'data: ' + l + '\n'
  return s + '\n'
}
