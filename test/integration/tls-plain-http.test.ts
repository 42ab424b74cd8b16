// Plain HTTP sent to the TLS port gets a short 400 telling the client to use https (like nginx's
// 497) and nothing else: no route runs, no upstream is called; TLS clients on the same port are served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { rawRequest } from '../helpers/raw-http.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

describe('plain HTTP on the TLS port', () => {
  it('a plaintext request line is answered 400 "use https" and the connection is closed', async () => {
    gw.fake.reset()
    // the request lines OpenSSL recognises where a TLS record should start
    for (const method of ['GET', 'POST', 'HEAD', 'PUT']) {
      const r = await rawRequest(gw.port, `${method} /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${gw.adminKey}\r\n\r\n`, { tls: false })
      expect(r.status, method).toBe(400)
      expect(r.head).toMatch(/\r\nconnection: close/i)
      expect(r.body).toBe('This port speaks HTTPS: use https:// instead of http://\n')
    }
    expect(gw.fake.received).toHaveLength(0)
  })
  it('a request line of another method gets no HTTP answer, only the closed connection', async () => {
    const r = await rawRequest(gw.port, 'OPTIONS /api/tags HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { tls: false, timeoutMs: 2000 })
    expect(r.raw).not.toContain('HTTP/1.1')
    expect(gw.fake.received).toHaveLength(0)
  })
  it('TLS clients are still served on the same port', async () => {
    const r = await call(gw, 'GET', '/api/tags')
    expect(r.status).toBe(200)
  })
  it('bytes that are neither TLS nor an HTTP method get no HTTP answer', async () => {
    const r = await rawRequest(gw.port, Buffer.from([0x00, 0x01, 0x02, 0x03]), { tls: false, timeoutMs: 1000 })
    expect(r.raw).not.toContain('HTTP/1.1')
  })
})
