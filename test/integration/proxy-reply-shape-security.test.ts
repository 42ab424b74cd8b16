// Security: what Ollama's reply claims to be cannot get it around the gateway's checks. A model
// list labelled as a stream is still filtered; a stream the masker refuses stops Ollama too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import type { AuditLine } from '../helpers/audit-lines.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

let upstream: Server
let upstreamClosedEarly = 0
let gw: TestGateway
const models = ['llama3.2:latest', 'secret-model:latest']

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/api/tags') {
        // a list that says it is a stream
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        return res.end(JSON.stringify({ models: models.map((m) => ({ name: m, model: m })) }) + '\n')
      }
      // a generation whose first line the masker cannot read, then more, slowly
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write('not json at all\n')
      const timer = setInterval(() => res.write(JSON.stringify({ response: 'more', done: false }) + '\n'), 50)
      res.on('close', () => { clearInterval(timer); if (!res.writableFinished) upstreamClosedEarly++ })
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  gw = await startTestGateway({
    upstream: { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
    rbac: { roles: { admin: { permissions: ['*'], models: ['*'] }, analyst: { permissions: ['inference', 'models:read'], models: ['llama3.2'] } } }
  })
})
afterAll(async () => {
  await gw?.close()
  upstream.closeAllConnections()
  await new Promise((resolve) => upstream.close(resolve))
})

describe('reply shapes', () => {
  it('a model list labelled application/x-ndjson is still filtered by the caller\'s models', async () => {
    const key = await gw.createKey('analyst')
    const res = await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    expect(res.text).not.toContain('secret-model')
    expect((res.json as { models: Array<{ name: string }> }).models.map((m) => m.name)).toEqual(['llama3.2:latest'])
  })
  it('when the masker refuses a stream, the client gets an error line and Ollama is stopped', async () => {
    const res = await call(gw, 'POST', '/api/generate', { body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }) })
    expect(res.text.trim().split('\n').at(-1)).toBe(JSON.stringify({ error: 'upstream reply could not be processed' }))
    await eventually(() => expect(upstreamClosedEarly).toBe(1), { timeoutMs: 3000 })
    // the audit says what the client saw: the reply did not reach its end
    await eventually(() => {
      const events = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
        .filter((e) => e.http?.request.id === res.headers['x-request-id'])
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ event: { action: 'model-request', outcome: 'failure' }, gatehouse: { reason: 'upstream-bad-reply' } })
    })
  })
})
