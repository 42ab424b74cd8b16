// Security: the proxy forwards only the body the policy checked and re-serialized. A JSON route
// that reaches it without one is refused before anything is sent upstream — never the raw body.
import { describe, expect, it } from 'vitest'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import { createForwarder, type ReplyStages } from '../../../src/proxy/forward.js'
import type { Upstream } from '../../../src/proxy/upstream.js'
import { singleTarget } from '../../../src/proxy/target.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { PROXIED_ROUTES } from '../../../src/ollama/routes.js'

describe('forwarder', () => {
  it('refuses a JSON route whose body was never checked, and sends nothing upstream', async () => {
    let calls = 0
    const upstream = { pool: { dispatch: () => { calls++; throw new Error('must not be called') } }, host: 'h', headersTimeoutMs: 1, idleTimeoutMs: 1 } as unknown as Upstream
    const stages = { stream: () => [], json: async (_r: unknown, _t: unknown, b: Buffer) => b, beforeEnd: async () => {} } as unknown as ReplyStages
    const route = PROXIED_ROUTES.find((r) => r.id === 'POST /api/chat')
    const request = { gh: { ...newRequestContext('id', '127.0.0.1'), route }, body: Buffer.from('{"model":"secret"}'), headers: {}, params: {} } as unknown as FastifyRequest
    const reply = { raw: { once: () => {}, writableFinished: false } } as unknown as FastifyReply
    await expect(createForwarder(singleTarget(upstream), stages)(request, reply)).rejects.toThrow(/no checked body/)
    expect(calls).toBe(0)
  })

  it('a whole-JSON reply over 64 MiB is GH_ERR_UPSTREAM_TOO_LARGE (502), not reported as Ollama being down', async () => {
    const failures: string[] = []
    const ollama = dispatcherSending(200, 'application/json', 65, Buffer.alloc(1024 * 1024, 0x20))
    const dispatch = ollama.dispatch
    const upstream = { pool: { dispatch }, host: 'h', headersTimeoutMs: 1, idleTimeoutMs: 1 } as unknown as Upstream
    const stages = {
      stream: () => [], json: async (_r: unknown, _t: unknown, b: Buffer) => b, beforeEnd: async () => {},
      upstreamFailed: (_r: unknown, kind: string) => { failures.push(kind) }
    } as unknown as ReplyStages
    const route = PROXIED_ROUTES.find((r) => r.id === 'GET /api/tags')
    const request = { gh: { ...newRequestContext('id', '127.0.0.1'), route, forwardBody: null }, headers: {}, params: {} } as unknown as FastifyRequest
    const reply = { raw: { once: () => {}, writableFinished: false }, code: () => reply, headers: () => reply } as unknown as FastifyReply
    await expect(createForwarder(singleTarget(upstream), stages)(request, reply)).rejects.toMatchObject({ code: 'GH_ERR_UPSTREAM_TOO_LARGE', statusCode: 502 })
    expect(failures).toEqual(['mid-stream'])
    expect(ollama.aborted()).toBe(true) // the oversized reply's request was stopped, not read to its end
  })

  it('a streamed reply the stages refuse before a byte is sent stops Ollama\'s request', async () => {
    // a long stream: more than is buffered before the body has a consumer
    const ollama = dispatcherSending(200, 'application/x-ndjson', 10_000, Buffer.from('{"response":"x","done":false}\n'))
    const upstream = { pool: { dispatch: ollama.dispatch }, host: 'h', headersTimeoutMs: 1, idleTimeoutMs: 1 } as unknown as Upstream
    const refusal = new Error('no stage for this reply')
    const stages = { stream: () => { throw refusal }, json: async (_r: unknown, _t: unknown, b: Buffer) => b, beforeEnd: async () => {} } as unknown as ReplyStages
    const route = PROXIED_ROUTES.find((r) => r.id === 'POST /api/generate')
    const request = { gh: { ...newRequestContext('id', '127.0.0.1'), route, forwardBody: Buffer.from('{"model":"m"}') }, headers: {}, params: {} } as unknown as FastifyRequest
    const reply = { raw: { once: () => {}, writableFinished: false }, code: () => reply, headers: () => reply } as unknown as FastifyReply
    await expect(createForwarder(singleTarget(upstream), stages)(request, reply)).rejects.toBe(refusal)
    expect(ollama.aborted()).toBe(true)
  })
})

describe('forwarder, a host that answers 5xx', () => {
  it('when finding another host fails, the refused reply\'s request is stopped, not left unread', async () => {
    const ollama = dispatcherSending(503, 'application/x-ndjson', 10_000, Buffer.from('{"error":"overloaded"}\n'))
    const upstream = { pool: { dispatch: ollama.dispatch }, host: 'h', headersTimeoutMs: 1, idleTimeoutMs: 1 } as unknown as Upstream
    const down = new Error('shared state unavailable')
    const targets = { ...singleTarget(upstream), retry: async () => { throw down } }
    const stages = { stream: () => [], json: async (_r: unknown, _t: unknown, b: Buffer) => b, beforeEnd: async () => {} } as unknown as ReplyStages
    const route = PROXIED_ROUTES.find((r) => r.id === 'POST /api/generate')
    const request = { gh: { ...newRequestContext('id', '127.0.0.1'), route, forwardBody: Buffer.from('{"model":"m"}') }, headers: {}, params: {} } as unknown as FastifyRequest
    const reply = { raw: { once: () => {}, writableFinished: false }, code: () => reply, headers: () => reply } as unknown as FastifyReply
    await expect(createForwarder(targets, stages)(request, reply)).rejects.toBe(down)
    expect(ollama.aborted()).toBe(true)
  })
})

/**
 * A dispatcher standing in for an undici Pool: answers `status` with `count` copies of `chunk`,
 * sent while the handler's controller is not paused (as undici's parser), stopping when aborted.
 */
function dispatcherSending (status: number, contentType: string, count: number, chunk: Buffer) {
  let aborted = false
  const dispatch = (_options: unknown, handler: Dispatcher.DispatchHandler): boolean => {
    let sent = 0
    let paused = false
    const send = (): void => {
      while (!aborted && !paused && sent < count) { sent++; handler.onResponseData?.(controller, chunk) }
      if (!aborted && !paused && sent === count) { sent++; handler.onResponseEnd?.(controller, {}) }
    }
    const controller: Dispatcher.DispatchController = {
      get aborted () { return aborted },
      get paused () { return paused },
      reason: null,
      pause () { paused = true },
      resume () { paused = false; queueMicrotask(send) },
      abort (reason) { if (!aborted) { aborted = true; handler.onResponseError?.(controller, reason) } }
    }
    handler.onRequestStart?.(controller, {})
    handler.onResponseStart?.(controller, status, { 'content-type': contentType })
    queueMicrotask(send)
    return true
  }
  return { dispatch, aborted: () => aborted }
}
