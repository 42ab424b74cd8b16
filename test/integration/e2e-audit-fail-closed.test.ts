// No audit, no access: while the only file sink cannot write, failClosed refuses proxied requests and
// logins with 503 before anything reaches Ollama, and serves again once the log is writable. With
// failClosed off requests go on and /readyz names audit. Events carry the socket address as
// source.ip unless the peer is a trusted proxy, and the first event is config-loaded with its hash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import { configHash } from '../../src/config/load.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON lines, read field by field
type Ev = Record<string, any>

const json = { 'content-type': 'application/json' }
const chatBody = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false })
const loginBody = JSON.stringify({ username: 'nobody-here', password: 'not-the-password-1' })
const unavailable = { error: 'audit log unavailable; request refused' }

// what reached Ollama, apart from the readiness probe's GET /
const proxied = (gw: TestGateway) => gw.fake.received.filter((r) => !(r.method === 'GET' && r.url === '/'))
const logsDir = (gw: TestGateway) => join(gw.dir, 'logs')
const readEvents = (gw: TestGateway): Ev[] =>
  readFileSync(join(logsDir(gw), 'audit.log'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Ev)

/** Makes the sink's path unopenable even for root: its directory becomes a regular file. */
function breakLogDir (gw: TestGateway): () => void {
  const dir = logsDir(gw)
  renameSync(dir, dir + '.moved')
  writeFileSync(dir, 'not a directory')
  return () => {
    rmSync(dir)
    renameSync(dir + '.moved', dir)
  }
}

const eventFor = (gw: TestGateway, requestId: string): Promise<Ev> => eventually(() => {
  const found = readEvents(gw).find((e) => e.http?.request?.id === requestId)
  expect(found, `the audit event of ${requestId}`).toBeDefined()
  return found as Ev
})

describe('failClosed: true', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway() })
  afterAll(async () => { await gw?.close() })

  it('the first event is config-loaded, carrying the effective configuration\'s hash', async () => {
    await eventually(() => expect(readEvents(gw).length).toBeGreaterThan(0))
    const first = readEvents(gw)[0] as Ev
    expect(first.event.action).toBe('config-loaded')
    expect(first.gatehouse.chain.seq).toBe(1)
    expect(first.gatehouse.config.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(first.gatehouse.config.hash).toBe(configHash(gw.config))
    expect(readEvents(gw).filter((e) => e.event.action === 'config-loaded')).toHaveLength(1)
  })

  it('an unwritable log refuses proxied requests and logins with 503 before Ollama sees anything; restoring it serves again', async () => {
    expect((await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })).status).toBe(200)
    gw.fake.reset()
    const restore = breakLogDir(gw)
    try {
      await eventually(() => expect(gw.gateway.audit.writable()).toBe(false))
      const chat = await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })
      expect(chat.status).toBe(503)
      expect(chat.json).toEqual(unavailable)
      const tags = await call(gw, 'GET', '/api/tags')
      expect(tags.status).toBe(503)
      const v1 = await call(gw, 'POST', '/v1/chat/completions', { headers: json, body: chatBody })
      expect(v1.status).toBe(503)
      expect((v1.json as Ev).error.message).toBe(unavailable.error)
      const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: loginBody })
      expect(login.status).toBe(503)
      expect(login.json).toEqual(unavailable)
      const admin = await call(gw, 'GET', '/admin/users')
      expect(admin.status).toBe(503)
      expect(admin.json).toEqual(unavailable)
      // refused before authentication too: an anonymous request learns nothing else
      expect((await call(gw, 'POST', '/api/chat', { anonymous: true, headers: json, body: chatBody })).status).toBe(503)
      expect(proxied(gw)).toHaveLength(0)
      // operators still see the failure
      expect((await call(gw, 'GET', '/healthz', { anonymous: true })).status).toBe(200)
      const ready = await call(gw, 'GET', '/readyz', { anonymous: true })
      expect(ready.status).toBe(503)
      expect(ready.text).toContain('audit')
    } finally {
      restore()
    }
    await eventually(() => expect(gw.gateway.audit.writable()).toBe(true))
    const again = await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })
    expect(again.status).toBe(200)
    expect(proxied(gw)).toHaveLength(1)
    expect((await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: loginBody })).status).toBe(401)
    // the outage itself is on the record, and the request served afterwards is audited
    const ev = await eventFor(gw, again.headers['x-request-id'] as string)
    expect(ev.event.action).toBe('model-request')
    await eventually(() => expect(readEvents(gw).map((e) => e.event.action)).toContain('audit-sink-error'))
    // the refusals were held while the file was away and written once it came back
    const refused = readEvents(gw).filter((e) => e.gatehouse?.reason === 'audit-unavailable')
    expect(refused.map((e) => [e.event.action, e.url.path, e.http.response.status_code])).toEqual([
      ['access-denied', '/api/chat', 503], ['access-denied', '/api/tags', 503],
      ['access-denied', '/v1/chat/completions', 503], ['access-denied', '/admin/users', 503], ['access-denied', '/api/chat', 503]
    ])
  })

  it('source.ip is the socket address: a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
    const spoofed = { ...json, 'x-forwarded-for': '203.0.113.66', 'x-real-ip': '203.0.113.67', forwarded: 'for=203.0.113.68' }
    const chat = await call(gw, 'POST', '/api/chat', { headers: spoofed, body: chatBody })
    expect(chat.status).toBe(200)
    const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: spoofed, body: loginBody })
    expect(login.status).toBe(401)
    for (const res of [chat, login]) {
      const ev = await eventFor(gw, res.headers['x-request-id'] as string)
      expect(ev.source.ip).toBe('127.0.0.1')
    }
    expect(readFileSync(join(logsDir(gw), 'audit.log'), 'utf8')).not.toMatch(/203\.0\.113\.6[678]/)
  })
})

describe('failClosed: false, behind a trusted proxy', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ audit: { failClosed: false }, trustProxies: ['127.0.0.1/32'] }) })
  afterAll(async () => { await gw?.close() })

  it('requests go on while the log cannot be written, and /readyz answers 503 naming audit', async () => {
    expect((await call(gw, 'GET', '/readyz', { anonymous: true })).status).toBe(200)
    gw.fake.reset()
    const restore = breakLogDir(gw)
    try {
      await eventually(() => expect(gw.gateway.audit.writable()).toBe(false))
      const chat = await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })
      expect(chat.status).toBe(200)
      expect(proxied(gw)).toHaveLength(1)
      expect((await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: loginBody })).status).toBe(401)
      const ready = await call(gw, 'GET', '/readyz', { anonymous: true })
      expect(ready.status).toBe(503)
      expect(ready.json).toMatchObject({ failing: ['audit'] })
    } finally {
      restore()
    }
    await eventually(() => expect(gw.gateway.audit.writable()).toBe(true))
    expect((await call(gw, 'GET', '/readyz', { anonymous: true })).status).toBe(200)
  })

  it('source.ip is the hop before the first trusted proxy, not the client-supplied left end', async () => {
    const via = { ...json, 'x-forwarded-for': '203.0.113.5, 198.51.100.7, 127.0.0.1' }
    const chat = await call(gw, 'POST', '/api/chat', { headers: via, body: chatBody })
    expect(chat.status).toBe(200)
    const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: via, body: loginBody })
    expect(login.status).toBe(401)
    for (const res of [chat, login]) {
      const ev = await eventFor(gw, res.headers['x-request-id'] as string)
      expect(ev.source.ip).toBe('198.51.100.7')
    }
    // without the header the trusted peer itself is the source
    const direct = await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })
    expect((await eventFor(gw, direct.headers['x-request-id'] as string)).source.ip).toBe('127.0.0.1')
  })
})
