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
    const MiB = Buffer.alloc(1024 * 1024, 0x20)
    const failures: string[] = []
    let aborted = false
    // a dispatcher that answers 200 and, once the body is read, sends 65 MiB (stopping when aborted)
    const dispatch = (_options: unknown, handler: Dispatcher.DispatchHandler): boolean => {
      let sent = 0
      const controller: Dispatcher.DispatchController = {
        aborted: false, paused: false, reason: null,
        pause () { (this as { paused: boolean }).paused = true },
        resume () {
          (this as { paused: boolean }).paused = false
          while (!aborted && !controller.paused && sent <= 64) { sent++; handler.onResponseData?.(controller, MiB) }
          if (!aborted && sent > 64) handler.onResponseEnd?.(controller, {})
        },
        abort (reason) { aborted = true; handler.onResponseError?.(controller, reason) }
      }
      handler.onRequestStart?.(controller, {})
      handler.onResponseStart?.(controller, 200, { 'content-type': 'application/json' })
      return true
    }
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
    expect(aborted).toBe(true) // the oversized reply's request was stopped, not read to its end
  })
})
