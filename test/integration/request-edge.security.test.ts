// Security: what a client can make Gatehouse hold before it has proven who it is. Credentials are
// checked from the headers before a byte of the body is read; bodies that crawl are cut; one source
// can hold only so many body bytes and connections; /auth and /admin take small bodies only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { openRaw, rawRequest, waitFor, type OpenSocket } from '../helpers/raw-http.js'

const MiB = 1024 * 1024

describe('credentials before the body', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })

  it('an unauthenticated post declaring 10 MiB is answered 401 before its body is sent, and the connection is closed', async () => {
    gw.fake.reset()
    const head = `POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`
    const started = Date.now()
    // only the head and 1 KiB of the body: a gateway that waits for the rest never answers
    const res = await rawRequest(gw.port, head + '{"model":"llama3.2","x":"' + 'a'.repeat(1024), { ca: gw.certs.ca, timeoutMs: 4000 })
    expect(res.status).toBe(401)
    expect(res.head.toLowerCase()).toContain('connection: close')
    expect(res.head.toLowerCase()).toContain('www-authenticate: bearer')
    expect(JSON.parse(res.body)).toEqual({ error: 'authentication required' })
    expect(Date.now() - started).toBeLessThan(3500)
    expect(gw.fake.received).toHaveLength(0)
  })

  it('a bad credential is refused from the headers too, without reading the body', async () => {
    const head = `POST /api/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ghk_${'A'.repeat(43)}\r\nContent-Length: ${5 * MiB}\r\n\r\n`
    const res = await rawRequest(gw.port, head + '{', { ca: gw.certs.ca, timeoutMs: 4000 })
    expect(res.status).toBe(401)
    expect(res.head.toLowerCase()).toContain('connection: close')
  })

  it('an unrouted request (404, or 405 on a known path) is answered before its JSON body is read, and closed', async () => {
    for (const [method, path, status] of [['POST', '/nope', 404], ['POST', '/healthz', 404], ['PUT', '/api/chat', 405], ['POST', '/api/tags', 405]] as const) {
      const head = `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`
      const res = await rawRequest(gw.port, head + '{"a":1', { ca: gw.certs.ca, timeoutMs: 4000 })
      expect(res.status, `${method} ${path}`).toBe(status)
      expect(res.head.toLowerCase()).toContain('connection: close')
    }
  })

  it('a proxied reply sent while a body the route does not read is still arriving closes the connection', async () => {
    // GET routes take no body: the reply comes from Ollama while the declared 10 MiB have not arrived
    const head = `GET /api/tags HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: ${10 * MiB}\r\n\r\n`
    const res = await rawRequest(gw.port, head + 'a'.repeat(1024), { ca: gw.certs.ca, timeoutMs: 4000 })
    expect(res.status).toBe(200)
    expect(res.head.toLowerCase()).toContain('connection: close')
  })

  it('an authenticated post with a complete small body keeps working (and keeps the connection)', async () => {
    const body = JSON.stringify({ model: 'llama3.2' })
    // a second request on the same connection, which asks to close it, is answered after the first
    // reply: the connection was kept
    const next = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    const res = await rawRequest(gw.port, `POST /api/show HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: ${body.length}\r\n\r\n${body}` + next, { ca: gw.certs.ca, timeoutMs: 4000 })
    expect(res.status).toBe(200)
    expect(res.head.toLowerCase()).not.toContain('connection: close')
    // a whole proxied reply carries its length (and a type), written past Fastify's send path
    const length = Number(/content-length: (\d+)/.exec(res.head.toLowerCase())?.[1])
    expect(JSON.parse(res.body.slice(0, length))).toEqual(expect.any(Object))
    expect(res.head.toLowerCase()).toMatch(/content-type: application\/json/)
    expect(res.body.slice(length)).toMatch(/^HTTP\/1\.1 200 /)
    expect(res.body.slice(length)).toContain('{"status":"ok"}')
  })

  it('/auth and /admin refuse bodies over 16 KiB (413) whatever the credential', async () => {
    const big = JSON.stringify({ username: 'a'.repeat(17 * 1024), password: 'x' })
    const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' }, body: big })
    expect(login.status).toBe(413)
    expect(login.json).toEqual({ error: 'request body is too large' })
    const small = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'wrong-password-1' }) })
    expect(small.status).toBe(401)
  })
})

describe('slow bodies', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ limits: { bodyTimeoutMs: 500, bodyMinBytesPerSecond: 0 } }) })
  afterAll(async () => { await gw.close() })

  /** sends `head`, then one byte of the body every `everyMs` until the server hangs up */
  function trickle (head: string, everyMs: number): OpenSocket & { stop: () => void } {
    const conn = openRaw(gw.port, { ca: gw.certs.ca })
    let timer: NodeJS.Timeout | undefined
    void conn.ready.then(() => {
      conn.socket.write(head)
      timer = setInterval(() => { if (!conn.isClosed()) conn.socket.write('a') }, everyMs)
    }, () => {})
    void conn.closed.then(() => clearInterval(timer))
    return { ...conn, stop: () => { clearInterval(timer); conn.socket.destroy() } }
  }

  it('an authenticated body sent one byte at a time is cut with 408 at the body deadline', async () => {
    const t = trickle(`POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: 100000\r\n\r\n`, 100)
    const started = Date.now()
    try {
      expect(await waitFor(t.isClosed, 8000)).toBe(true)
      const res = await t.closed
      expect(res.status).toBe(408)
      expect(JSON.parse(res.body)).toEqual({ error: 'request body timed out' })
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    } finally { t.stop() }
  })

  it('a slow body on /auth/login is cut too', async () => {
    const t = trickle('POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n', 100)
    try {
      expect(await waitFor(t.isClosed, 8000)).toBe(true)
      expect((await t.closed).status).toBe(408)
    } finally { t.stop() }
  })

  it('a body below the minimum pace is cut before the deadline', async () => {
    const gw2 = await startTestGateway({ limits: { bodyTimeoutMs: 60_000, bodyMinBytesPerSecond: 200 } })
    const conn = openRaw(gw2.port, { ca: gw2.certs.ca })
    let timer: NodeJS.Timeout | undefined
    try {
      await conn.ready
      conn.socket.write(`POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw2.adminKey}\r\nContent-Length: 100000\r\n\r\n`)
      timer = setInterval(() => { if (!conn.isClosed()) conn.socket.write('aaaa') }, 100) // 40 bytes/s
      expect(await waitFor(conn.isClosed, 10_000)).toBe(true)
      expect((await conn.closed).status).toBe(408)
    } finally {
      clearInterval(timer)
      conn.socket.destroy()
      await gw2.close()
    }
  })
})

describe('per-source limits', () => {
  it('one source cannot hold more body bytes in flight than limits.sourceBodyBytes (429), and gets them back when done', async () => {
    const gw = await startTestGateway({ limits: { bodyBytes: 48 * 1024, sourceBodyBytes: 64 * 1024 } })
    const conn = openRaw(gw.port, { ca: gw.certs.ca })
    try {
      await conn.ready
      // 40 KiB declared and mostly sent, the last byte held back
      conn.socket.write(`POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${gw.adminKey}\r\nContent-Length: ${40 * 1024}\r\n\r\n` + 'a'.repeat(40 * 1024 - 1))
      const body = JSON.stringify({ model: 'llama3.2', messages: [], pad: 'b'.repeat(40 * 1024 - 60) })
      // polled: the held body counts once the gateway has started reading it
      let second = await call(gw, 'POST', '/api/chat', { headers: { 'content-type': 'application/json' }, body })
      for (const until = Date.now() + 5000; second.status !== 429 && Date.now() < until;) {
        second = await call(gw, 'POST', '/api/chat', { headers: { 'content-type': 'application/json' }, body })
      }
      expect(second.status).toBe(429)
      expect(second.json).toEqual({ error: 'too many request bytes in flight from this address' })
      conn.socket.destroy()
      expect(await waitFor(conn.isClosed)).toBe(true)
      // the bytes held by the cut connection are released once its reply is done
      let ok = false
      const deadline = Date.now() + 5000
      while (!ok && Date.now() < deadline) {
        ok = (await call(gw, 'POST', '/api/chat', { headers: { 'content-type': 'application/json' }, body })).status === 200
      }
      expect(ok).toBe(true)
    } finally {
      conn.socket.destroy()
      await gw.close()
    }
  })

  it('limits.connectionsPerSource: the connection over the cap is dropped, the others stay', async () => {
    const gw = await startTestGateway({ limits: { connectionsPerSource: 3 } })
    const conns: OpenSocket[] = []
    try {
      for (let i = 0; i < 3; i++) { const c = openRaw(gw.port, { ca: gw.certs.ca }); conns.push(c); await c.ready }
      const extra = openRaw(gw.port, { ca: gw.certs.ca })
      conns.push(extra)
      expect(await waitFor(extra.isClosed)).toBe(true)
      expect(conns.slice(0, 3).every((c) => !c.isClosed())).toBe(true)
      // a closed one frees its slot
      ;(conns[0] as OpenSocket).socket.destroy()
      expect(await waitFor((conns[0] as OpenSocket).isClosed)).toBe(true)
      let accepted = false
      for (let i = 0; i < 20 && !accepted; i++) {
        const again = openRaw(gw.port, { ca: gw.certs.ca })
        conns.push(again)
        accepted = await again.ready.then(() => true, () => false)
      }
      expect(accepted).toBe(true)
    } finally {
      for (const c of conns) c.socket.destroy()
      await gw.close()
    }
  })

  it('limits.maxConnections: connections over the total are dropped', async () => {
    const gw = await startTestGateway({ limits: { maxConnections: 2, connectionsPerSource: 100 } })
    const conns: OpenSocket[] = []
    try {
      for (let i = 0; i < 2; i++) { const c = openRaw(gw.port, { ca: gw.certs.ca }); conns.push(c); await c.ready }
      const extra = openRaw(gw.port, { ca: gw.certs.ca })
      conns.push(extra)
      expect(await waitFor(extra.isClosed)).toBe(true)
      expect(conns.slice(0, 2).every((c) => !c.isClosed())).toBe(true)
    } finally {
      for (const c of conns) c.socket.destroy()
      await gw.close()
    }
  })
})
