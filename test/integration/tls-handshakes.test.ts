// TLS for real: 1.0 and 1.1 handshakes fail, 1.2 and 1.3 work, weak ciphers are refused, and with
// clientCa set a client without a certificate from that CA cannot get in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type ConnectionOptions, type SecureVersion } from 'node:tls'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestGateway, testCerts, type TestGateway } from '../helpers/gateway.js'
import { issueCert } from '../../src/tls/dev-certs.js'
import { rawRequest } from '../helpers/raw-http.js'

function handshake (port: number, opts: ConnectionOptions): Promise<{ ok: true, protocol: string | null, cipher: string } | { ok: false, error: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts })
    s.once('secureConnect', () => {
      const r = { ok: true as const, protocol: s.getProtocol(), cipher: s.getCipher().name }
      s.end()
      resolve(r)
    })
    s.once('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }))
  })
}

const pinned = (v: SecureVersion): ConnectionOptions => ({ minVersion: v, maxVersion: v })

describe('TLS versions and ciphers', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw.close() })

  for (const v of ['TLSv1', 'TLSv1.1'] as const) {
    it(`${v} handshakes fail`, async () => {
      // allow the legacy protocol on the client side so only the server can refuse it
      const r = await handshake(gw.port, { ...pinned(v), ca: gw.certs.ca, ciphers: 'ALL:@SECLEVEL=0' })
      expect(r.ok).toBe(false)
    })
  }
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${v} handshakes succeed with the configured certificate`, async () => {
      const r = await handshake(gw.port, { ...pinned(v), ca: gw.certs.ca })
      expect(r).toMatchObject({ ok: true, protocol: v })
    })
  }
  it('TLS 1.2 negotiates only an ECDHE AEAD cipher from the configured list', async () => {
    const r = await handshake(gw.port, { ...pinned('TLSv1.2'), ca: gw.certs.ca })
    expect(r.ok && r.cipher).toMatch(/^ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/)
  })
  it('a client offering only CBC / RSA key exchange ciphers is refused', async () => {
    const r = await handshake(gw.port, { ...pinned('TLSv1.2'), ca: gw.certs.ca, ciphers: 'AES128-SHA:AES256-SHA:AES128-GCM-SHA256' })
    expect(r.ok).toBe(false)
  })
  it('the certificate verifies for localhost against the dev CA (SAN)', async () => {
    const r = await handshake(gw.port, { ca: gw.certs.ca, servername: 'localhost', rejectUnauthorized: true })
    expect(r.ok).toBe(true)
  })
})

describe('minVersion TLSv1.3', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ tls: { minVersion: 'TLSv1.3' } }) })
  afterAll(async () => { await gw.close() })
  it('refuses TLS 1.2 and accepts 1.3', async () => {
    expect((await handshake(gw.port, { ...pinned('TLSv1.2'), ca: gw.certs.ca })).ok).toBe(false)
    expect((await handshake(gw.port, { ...pinned('TLSv1.3'), ca: gw.certs.ca })).ok).toBe(true)
  })
})

describe('mTLS with clientCa', () => {
  let gw: TestGateway
  let client: { certPem: string, keyPem: string }
  let stranger: { certPem: string, keyPem: string }
  beforeAll(async () => {
    const certs = testCerts()
    const { readFileSync } = await import('node:fs')
    const ca = { certPem: readFileSync(certs.caCert, 'utf8'), keyPem: readFileSync(certs.caKey, 'utf8') }
    client = issueCert(ca, 'svc-app', 'client')
    const { createDevCa } = await import('../../src/tls/dev-certs.js')
    stranger = issueCert(createDevCa(), 'intruder', 'client')
    const caFile = join(mkdtempSync(join(tmpdir(), 'gh-client-ca-')), 'client-ca.crt') // the shared certificate folder is read-only
    writeFileSync(caFile, ca.certPem)
    gw = await startTestGateway({ tls: { clientCa: caFile } })
  })
  afterAll(async () => { await gw.close() })

  it('a client with a certificate from clientCa gets through', async () => {
    const r = await handshake(gw.port, { ca: gw.certs.ca, cert: client.certPem, key: client.keyPem })
    expect(r.ok).toBe(true)
  })
  it('a client without a certificate gets no HTTP answer', async () => {
    const res = await rawRequest(gw.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', { ca: gw.certs.ca }).catch(() => ({ status: 0 }))
    expect(res.status).toBe(0)
  })
  it('a client with a certificate from another CA gets no HTTP answer', async () => {
    const r = await handshake(gw.port, { ca: gw.certs.ca, cert: stranger.certPem, key: stranger.keyPem })
    if (r.ok) {
      // TLS 1.3 reports the client-cert rejection after the handshake: no request may succeed
      const { connect: c } = await import('node:tls')
      const status = await new Promise<number>((resolve) => {
        const s = c({ host: '127.0.0.1', port: gw.port, servername: 'localhost', ca: gw.certs.ca, cert: stranger.certPem, key: stranger.keyPem })
        let data = ''
        s.on('secureConnect', () => s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'))
        s.on('data', (d: Buffer) => { data += d.toString() })
        s.on('error', () => resolve(0))
        s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)))
      })
      expect(status).toBe(0)
    } else {
      expect(r.ok).toBe(false)
    }
  })
})
