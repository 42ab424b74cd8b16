// What a client may make Gatehouse read and hold. A body is read only after the header checks
// (credentials on the proxied routes) have passed; while it is read it must finish within
// limits.bodyTimeoutMs and keep limits.bodyMinBytesPerSecond; one source address may have at most
// limits.sourceBodyBytes of bodies in flight (read or held until their reply ends). A reply sent
// before the body has fully arrived closes the connection instead of draining the rest.
import { Transform } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../clock.js'
import { errors } from '../errors.js'

export interface BodyLimits { bodyBytes: number, bodyTimeoutMs: number, bodyMinBytesPerSecond: number, sourceBodyBytes: number }

/** the minimum pace applies after this long: connection set-up and the first TCP windows */
export const PACE_GRACE_MS = 2000

/** Pure: whether a body still arriving, started at `startedAt` with `received` bytes so far, may go on. */
export function bodyVerdict (limits: BodyLimits, startedAt: number, now: number, received: number): 'ok' | 'timeout' | 'too-slow' {
  const elapsed = now - startedAt
  if (elapsed >= limits.bodyTimeoutMs) return 'timeout'
  const paced = elapsed - PACE_GRACE_MS
  if (limits.bodyMinBytesPerSecond > 0 && paced > 0 && received < limits.bodyMinBytesPerSecond * paced / 1000) return 'too-slow'
  return 'ok'
}

interface Reading { startedAt: number, received: () => number, cut: (reason: string) => void }

export interface BodyGuard {
  /** a preParsing hook: counts, paces and bounds the body stream */
  preParsing: (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream) => Promise<NodeJS.ReadableStream>
  /** an onSend hook: a reply sent while the body is still arriving carries `Connection: close` */
  closeWhenBodyUnread: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>
  /** bytes of bodies in flight from `source` (for tests and metrics) */
  inFlight: (source: string) => number
  close: () => void
}

const hasBody = (request: FastifyRequest): boolean =>
  request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0

/**
 * A reply written while the request's body is still arriving carries `Connection: close`: Node would
 * otherwise read (and drop) the rest of the body before the next request, at the sender's pace. Run
 * for Fastify's replies by the onSend hook, and for proxied replies (written past Fastify's send
 * path) by the reply stages.
 */
export function closeIfBodyUnread (request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) reply.header('connection', 'close')
}

export function createBodyGuard (limits: BodyLimits, clock: Clock): BodyGuard {
  const held = new Map<string, number>()
  // one body of the largest size allowed always fits
  const perSource = Math.max(limits.sourceBodyBytes, limits.bodyBytes)
  const reading = new Set<Reading>()
  let timer: NodeJS.Timeout | null = null
  const tickMs = Math.max(50, Math.min(1000, Math.floor(limits.bodyTimeoutMs / 4)))

  const add = (source: string, n: number): number => {
    const total = (held.get(source) ?? 0) + n
    if (total <= 0) held.delete(source)
    else held.set(source, total)
    return total
  }
  const check = () => {
    const now = clock.now()
    for (const r of reading) {
      const verdict = bodyVerdict(limits, r.startedAt, now, r.received())
      if (verdict !== 'ok') r.cut(`body-${verdict}`)
    }
  }
  const track = (r: Reading) => {
    reading.add(r)
    if (timer === null) { timer = setInterval(check, tickMs); timer.unref() }
  }
  const untrack = (r: Reading) => {
    reading.delete(r)
    if (reading.size === 0 && timer !== null) { clearInterval(timer); timer = null }
  }

  return {
    async preParsing (request, reply, payload) {
      if (request.method === 'GET' || request.method === 'HEAD' || !hasBody(request)) return payload
      const declared = Number(request.headers['content-length'] ?? 0)
      // Fastify answers a declared length over the route's limit with 413 before reading anything
      if (declared > request.routeOptions.bodyLimit) return payload
      const source = request.gh.sourceIp
      if ((held.get(source) ?? 0) + declared > perSource) {
        request.gh.reason = 'source-body-bytes'
        throw new errors.SOURCE_BODY_BYTES()
      }
      let reserved = declared
      let received = 0
      let released = false
      add(source, reserved)
      const counter = new Transform({
        transform (chunk: Buffer, _encoding, done) {
          received += chunk.length
          if (received > reserved && !released) {
            const total = add(source, received - reserved)
            reserved = received
            if (total > perSource) {
              request.gh.reason = 'source-body-bytes'
              done(new errors.SOURCE_BODY_BYTES())
              return
            }
          }
          done(null, chunk)
        }
      })
      const raw = payload as NodeJS.ReadableStream & { once: (e: string, f: (...a: unknown[]) => void) => unknown }
      const r: Reading = {
        startedAt: clock.now(),
        received: () => received,
        cut: (reason) => {
          untrack(r)
          payload.unpipe(counter)
          request.gh.reason = reason
          counter.destroy(new errors.BODY_TIMEOUT())
        }
      }
      raw.once('end', () => { untrack(r) })
      raw.once('error', (err) => { untrack(r); counter.destroy(err as Error) })
      reply.raw.once('close', () => { untrack(r); released = true; add(source, -reserved) })
      track(r)
      return payload.pipe(counter)
    },
    async closeWhenBodyUnread (request, reply, payload) {
      closeIfBodyUnread(request, reply)
      return payload
    },
    inFlight: (source) => held.get(source) ?? 0,
    close: () => { if (timer !== null) clearInterval(timer); timer = null; reading.clear() }
  }
}
