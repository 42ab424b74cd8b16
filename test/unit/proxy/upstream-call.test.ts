// The one request to Ollama (proxy/upstream-call.ts) against a real HTTP server: the body waits
// unread until it has a consumer, pauses stop reading from the socket, a stop reaches the server,
// and every failure (before the head, mid-body, over the size bound) comes out once, as an error.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, Pool } from 'undici'
import { callUpstream, readAll, type UpstreamReply } from '../../../src/proxy/upstream-call.js'
import { eventually } from '../../helpers/eventually.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
const handlers = new Map<string, Handler>()
let server: Server
let pool: Pool
const closed: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    res.once('close', () => { if (!res.writableFinished) closed.push(req.url ?? '') })
    ;(handlers.get(req.url ?? '') ?? ((_q, s) => { s.writeHead(404).end() }))(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: null, pipelining: 1 })
})
afterAll(async () => {
  await pool.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const call = (path: string, signal = new AbortController().signal, bodyTimeout = 10_000): Promise<UpstreamReply> =>
  callUpstream(pool, { method: 'GET', path, headers: { host: 'ollama' }, headersTimeout: 10_000, bodyTimeout }, signal)

interface Progress { written: number, waitingForDrain: boolean }

/** serves 400 chunks of 64 KiB at `path`, each when the socket takes more; the result tells how far it got */
function serveLarge (path: string): Progress {
  const progress = { written: 0, waitingForDrain: false }
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  handlers.set(path, (_q, res) => {
    res.writeHead(200)
    const more = (): void => {
      progress.waitingForDrain = false
      while (progress.written < 400) {
        progress.written++
        if (!res.write(chunk)) { progress.waitingForDrain = true; res.once('drain', more); return }
      }
      res.end()
    }
    more()
  })
  return progress
}

/**
 * Waits until the server is stuck: it waits for its socket to drain, and requests on other
 * connections (turns of both event loops, in which a client that kept reading would let it write
 * on) do not move it. Returns how many chunks it had written.
 */
function stalled (progress: Progress): Promise<number> {
  handlers.set('/ping', (_q, res) => { res.end('pong') })
  return eventually(async () => {
    const before = { ...progress }
    for (let i = 0; i < 3; i++) await readAll((await call('/ping')).body, 100)
    expect(progress).toEqual({ ...before, waitingForDrain: true })
    return before.written
  }, { timeoutMs: 15_000, intervalMs: 50 })
}

/** a body's chunks and how it ended, as a sink sees them */
function collect (reply: UpstreamReply): { chunks: string[], outcome: Promise<string> } {
  const chunks: string[] = []
  const outcome = new Promise<string>((resolve) => {
    reply.body.consume({ data: (c) => { chunks.push(c.toString()) }, end: () => { resolve('end') }, error: (e) => { resolve(`error: ${(e as { code?: string }).code ?? e.message}`) } })
  })
  return { chunks, outcome }
}

describe('callUpstream', () => {
  it('gives the status and headers, then the body in order to the consumer, then its end', async () => {
    handlers.set('/lines', (_q, res) => {
      res.writeHead(201, { 'content-type': 'application/x-ndjson' })
      res.write('{"a":1}\n')
      setImmediate(() => { res.end('{"done":true}\n') })
    })
    const reply = await call('/lines')
    expect(reply.statusCode).toBe(201)
    expect(reply.headers['content-type']).toBe('application/x-ndjson')
    const { chunks, outcome } = collect(reply)
    expect(await outcome).toBe('end')
    expect(chunks.join('')).toBe('{"a":1}\n{"done":true}\n')
    expect(reply.body.ended).toBe(true)
  })

  it('buffers at most about 64 KiB of a body nobody consumes yet, then leaves the rest in the socket', async () => {
    const progress = serveLarge('/unread')
    const reply = await call('/unread')
    // the server cannot write all of its 25 MiB while nobody reads
    expect(await stalled(progress)).toBeLessThan(400)
    const size = await readAll(reply.body, 64 * 1024 * 1024)
    expect(size.length).toBe(400 * 64 * 1024)
  })

  it('a small reply nobody reads is read to its end anyway, and its connection serves the next request', async () => {
    const sockets: unknown[] = []
    handlers.set('/small', (req, res) => { sockets.push(req.socket); res.writeHead(500); res.end('{"error":"boom"}') })
    // one connection: the second request can only be answered once the first reply was read to its end
    const own = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { pipelining: 1 })
    try {
      const get = (): Promise<UpstreamReply> => callUpstream(own, { method: 'GET', path: '/small', headers: { host: 'ollama' } }, new AbortController().signal)
      const first = await get()
      const second = await get()
      expect(first.body.ended).toBe(true)
      expect((await readAll(second.body, 100)).toString()).toBe('{"error":"boom"}')
      expect(sockets).toHaveLength(2)
      expect(sockets[1]).toBe(sockets[0])
      expect((await readAll(first.body, 100)).toString()).toBe('{"error":"boom"}')
    } finally {
      await own.close()
    }
  })

  it('pause() stops reading from the socket until resume()', async () => {
    const progress = serveLarge('/paused')
    const reply = await call('/paused')
    let received = 0
    let paused = false
    const ended = new Promise<void>((resolve, reject) => {
      reply.body.consume({
        data: (c) => { received += c.length; if (!paused && received > 1024 * 1024) { paused = true; reply.body.pause() } },
        end: resolve,
        error: reject
      })
    })
    await eventually(() => { expect(paused).toBe(true) })
    expect(await stalled(progress)).toBeLessThan(400)
    const held = received
    expect(await stalled(progress)).toBeLessThan(400)
    expect(received).toBe(held) // nothing reached the consumer while paused
    reply.body.resume()
    await ended
    expect(received).toBe(400 * 64 * 1024)
  })

  it('rejects when Ollama cannot be reached, with undici\'s error', async () => {
    const dead = new Pool('http://127.0.0.1:1', { connections: null })
    await expect(callUpstream(dead, { method: 'GET', path: '/', headers: {} }, new AbortController().signal))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await dead.close()
  })

  it('an abort before the head rejects; an abort mid-body reaches the consumer as an error and the server sees the close', async () => {
    handlers.set('/slow-head', () => { /* never answers */ })
    const early = new AbortController()
    const pending = call('/slow-head', early.signal)
    early.abort()
    await expect(pending).rejects.toBeTruthy()

    handlers.set('/mid', (_q, res) => { res.writeHead(200); res.write('first\n') })
    const ac = new AbortController()
    const reply = await call('/mid', ac.signal)
    const { chunks, outcome } = collect(reply)
    await eventually(() => { expect(chunks).toEqual(['first\n']) })
    ac.abort()
    expect(await outcome).toMatch(/^error/)
    expect(reply.body.destroyed).toBe(true)
    await eventually(() => { expect(closed).toContain('/mid') })
  })

  it('destroy() stops the request: the consumer hears nothing more, the server sees the close', async () => {
    handlers.set('/destroyed', (_q, res) => { res.writeHead(200); res.write('one\n') })
    const reply = await call('/destroyed')
    const heard: string[] = []
    reply.body.consume({ data: (c) => { heard.push(c.toString()) }, end: () => { heard.push('end') }, error: () => { heard.push('error') } })
    await eventually(() => { expect(heard).toEqual(['one\n']) })
    reply.body.destroy()
    await eventually(() => { expect(closed).toContain('/destroyed') })
    expect(heard).toEqual(['one\n'])
    expect(reply.body.destroyed).toBe(true)
  })

  it('a failure after the head and before a consumer is given to the consumer when it comes', async () => {
    handlers.set('/cut', (_q, res) => { res.writeHead(200, { 'content-length': '100' }); res.write('partial'); setImmediate(() => res.destroy()) })
    const reply = await call('/cut')
    // the failure has reached the body (and nobody consumes it yet)
    await eventually(() => { expect(reply.body.destroyed).toBe(true) })
    const { chunks, outcome } = collect(reply)
    expect(await outcome).toMatch(/^error/)
    expect(chunks.join('')).toBe('partial') // what came before the failure, then the failure
  })

  it('the idle (body) timeout ends a stalled body with UND_ERR_BODY_TIMEOUT', async () => {
    handlers.set('/stalls', (_q, res) => { res.writeHead(200); res.write('x') })
    const reply = await call('/stalls', new AbortController().signal, 300)
    expect(await collect(reply).outcome).toBe('error: UND_ERR_BODY_TIMEOUT')
  })

  it('readAll refuses a body over its bound and stops the request', async () => {
    handlers.set('/big', (_q, res) => { res.writeHead(200); res.write(Buffer.alloc(4096)); res.write(Buffer.alloc(4096)) })
    const reply = await call('/big')
    await expect(readAll(reply.body, 5000)).rejects.toMatchObject({ code: 'GH_ERR_UPSTREAM_TOO_LARGE' })
    await eventually(() => { expect(closed).toContain('/big') })
  })

  it('dump() drops a small rest and keeps the connection; past 128 KiB it closes it instead', async () => {
    handlers.set('/small-rest', (_q, res) => { res.writeHead(500); res.end('{"error":"boom"}') })
    const reply = await call('/small-rest')
    await reply.body.dump()
    expect(reply.body.ended).toBe(true)
    handlers.set('/large-rest', (_q, res) => { res.writeHead(500); res.write(Buffer.alloc(256 * 1024)) })
    const large = await call('/large-rest')
    await large.body.dump()
    expect(large.body.destroyed).toBe(true)
    await eventually(() => { expect(closed).toContain('/large-rest') })
  })

  it('skips an informational (1xx) head and answers with the final one', async () => {
    handlers.set('/processing', (_q, res) => { res.writeProcessing(); res.writeHead(200); res.end('ok') })
    const reply = await call('/processing')
    expect(reply.statusCode).toBe(200)
    expect((await readAll(reply.body, 100)).toString()).toBe('ok')
  })
})
