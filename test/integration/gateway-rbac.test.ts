// Authorization end to end: role × route decisions reach the wire as 403s in the route's shape,
// lists are filtered to what the caller may use, and every denial is audited with its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditLine } from '../helpers/audit-lines.js'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import { ollamaClient, openaiClient } from '../helpers/clients.js'

let gw: TestGateway
const keys: Record<string, string> = {}
beforeAll(async () => {
  gw = await startTestGateway({
    rbac: {
      roles: {
        admin: { permissions: ['*'], models: ['*'] },
        'model-loader': { permissions: ['models:read', 'models:manage'], models: ['*'] },
        user: { permissions: ['inference', 'models:read'], models: ['*'] },
        monitor: { permissions: ['status:read', 'metrics:read'], models: [] },
        analyst: { permissions: ['inference', 'models:read'], models: ['llama3.2', 'qwen2.5:*'] },
        'llama-manager': { permissions: ['models:read', 'models:manage'], models: ['llama3.2'] },
        'llama-uploader': { permissions: ['models:manage', 'models:upload'], models: ['llama3.2'] }
      }
    }
  })
  for (const role of ['user', 'model-loader', 'monitor', 'analyst', 'llama-manager', 'llama-uploader']) keys[role] = await gw.createKey(role)
})
afterAll(async () => { await gw.close() })

const as = (role: string) => ({ authorization: `Bearer ${keys[role] as string}` })

describe('roles on the wire', () => {
  it('a user gets 403 on every management route and Ollama sees none of them', async () => {
    gw.fake.reset()
    const digest = 'sha256:' + 'b'.repeat(64)
    const attempts: Array<[string, string, string?]> = [
      ['POST', '/api/pull', '{"model":"llama3.2"}'], ['POST', '/api/push', '{"model":"llama3.2"}'],
      ['POST', '/api/create', '{"model":"x","from":"llama3.2"}'], ['POST', '/api/copy', '{"source":"llama3.2","destination":"x"}'],
      ['DELETE', '/api/delete', '{"model":"llama3.2"}'], ['HEAD', `/api/blobs/${digest}`], ['POST', `/api/blobs/${digest}`, 'GGUF']
    ]
    for (const [method, path, body] of attempts) {
      const res = await call(gw, method, path, { anonymous: true, headers: as('user'), body })
      expect(res.status, `${method} ${path}`).toBe(403)
    }
    expect(gw.fake.received).toHaveLength(0)
  })
  it('a role managing only llama3.2 cannot create it from blobs nor touch /api/blobs (403, Ollama sees none); with models:upload it can', async () => {
    gw.fake.reset()
    const digest = 'sha256:' + 'c'.repeat(64)
    const attempts: Array<[string, string, string?]> = [
      ['POST', '/api/create', JSON.stringify({ model: 'llama3.2', files: { 'model.gguf': digest } })],
      ['POST', '/api/create', JSON.stringify({ model: 'llama3.2', from: 'llama3.2', adapters: { 'lora.gguf': digest } })],
      ['HEAD', `/api/blobs/${digest}`], ['POST', `/api/blobs/${digest}`, 'GGUF']
    ]
    for (const [method, path, body] of attempts) {
      const res = await call(gw, method, path, { anonymous: true, headers: as('llama-manager'), body })
      expect(res.status, `${method} ${path}`).toBe(403)
    }
    expect(gw.fake.received).toHaveLength(0)
    const ok = await call(gw, 'POST', '/api/create', { anonymous: true, headers: as('llama-uploader'), body: JSON.stringify({ model: 'llama3.2', files: { 'model.gguf': digest }, stream: false }) })
    expect(ok.status).toBe(200)
    expect(gw.fake.received).toHaveLength(1)
  })
  it('a model-loader may pull but not chat; a monitor may read status only', async () => {
    expect((await call(gw, 'POST', '/api/pull', { anonymous: true, headers: as('model-loader'), body: '{"model":"llama3.2","stream":false}' })).status).toBe(200)
    expect((await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('model-loader'), body: '{"model":"llama3.2"}' })).status).toBe(403)
    expect((await call(gw, 'GET', '/api/ps', { anonymous: true, headers: as('monitor') })).status).toBe(200)
    expect((await call(gw, 'GET', '/api/version', { anonymous: true, headers: as('monitor') })).status).toBe(200)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: as('monitor') })).status).toBe(403)
  })
  it('a model outside the role is 403: native shape on /api, OpenAI shape on /v1', async () => {
    const a = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('analyst'), body: '{"model":"secret-model","messages":[]}' })
    expect(a.status).toBe(403)
    expect(a.json).toEqual({ error: 'model "secret-model:latest" is not allowed for your role' })
    const err = await openaiClient(gw.url, gw.dispatcher, keys.analyst).chat.completions.create({ model: 'secret-model', messages: [] }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ status: 403, message: '403 model "secret-model:latest" is not allowed for your role' })
  })
  it('case-variant and duplicate model keys are decided the way Ollama reads them', async () => {
    gw.fake.reset()
    const res = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('analyst'), body: '{"model":"llama3.2","MODEL":"secret-model","messages":[]}' })
    expect(res.status).toBe(403)
    const ok = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('analyst'), body: '{"MODEL":"secret-model","model":"llama3.2","stream":false,"messages":[]}' })
    expect(ok.status).toBe(200)
    expect(gw.fake.received.at(-1)?.json).toMatchObject({ model: 'llama3.2' })
    expect(gw.fake.received.at(-1)?.body.toString()).not.toContain('secret-model')
  })
  it('lists contain only the models the caller may use', async () => {
    const tags = await ollamaClient(gw.url, gw.dispatcher, as('analyst')).list()
    expect(tags.models.map((m) => m.name).sort()).toEqual(['llama3.2:latest', 'qwen2.5:7b'])
    const ids: string[] = []
    for await (const m of openaiClient(gw.url, gw.dispatcher, keys.analyst).models.list()) ids.push(m.id)
    expect(ids.sort()).toEqual(['llama3.2:latest', 'qwen2.5:7b'])
    expect((await call(gw, 'GET', '/v1/models/secret-model:latest', { anonymous: true, headers: as('analyst') })).status).toBe(403)
    const ps = await call(gw, 'GET', '/api/ps', { anonymous: true, headers: as('monitor') })
    expect(ps.json).toEqual({ models: [] })
  })
  it('denials are audited as access-denied with the reason and no body content', async () => {
    // a namespaced model: its "/" must not cost the audit the reason or the model
    gw.fake.reset()
    const bob = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: as('analyst'), body: '{"model":"bob/secret","messages":[]}' })
    expect(bob.status).toBe(403)
    expect(gw.fake.received).toHaveLength(0)
    const readLines = () => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
    // the event is written once the reply is done: wait for it rather than race it
    const lines = await eventually(() => {
      const all = readLines()
      expect(all.map((e) => e.http?.request.id)).toContain(bob.headers['x-request-id'])
      return all
    })
    const denied = lines.filter((e) => e.event.action === 'access-denied')
    expect(denied.some((e) => e.gatehouse.reason === 'permission:models:manage' && e.url?.path === '/api/pull')).toBe(true)
    expect(denied.some((e) => e.gatehouse.reason === 'model-forbidden' && e.gen_ai?.request.model === 'secret-model:latest' && e.http?.response?.status_code === 403)).toBe(true)
    const bobDenial = denied.find((e) => e.http?.request.id === bob.headers['x-request-id'])
    expect(bobDenial?.gen_ai?.request.model).toBe('bob/secret:latest')
    expect(bobDenial?.gatehouse.reason).toBe('model-forbidden')
    expect(bobDenial?.event.reason).toBe('model-forbidden')
    for (const e of denied) expect(e.gatehouse.decision).toBe('deny')
    const allowed = lines.filter((e) => e.event.action === 'model-request')
    expect(allowed.some((e) => e.gen_ai?.request.model === 'llama3.2:latest' && e.gatehouse.credential === 'api_key')).toBe(true)
  })
  it('a probe of an unrouted path is audited as access-denied', async () => {
    await call(gw, 'GET', '/api/unknown-route')
    await call(gw, 'GET', '/api/pull')
    const lines = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
    const probes = lines.filter((e) => e.event.action === 'access-denied' && e.url?.path.startsWith('/api/') && [404, 405].includes(e.http?.response?.status_code ?? 0))
    expect(probes.map((e) => e.http?.response?.status_code)).toEqual(expect.arrayContaining([404, 405]))
  })
  it('a role change takes effect on the next request', async () => {
    const name = 'flip-user'
    await gw.gateway.auth.userAdmin.addUser(name, 'user', 'correct horse battery staple')
    const key = await gw.createKey('user', 'flip-key')
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    const list = await gw.gateway.auth.userAdmin.listKeys()
    await gw.gateway.auth.userAdmin.revokeKey((list.find((k) => k.name === 'flip-key') as { id: string }).id)
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status).toBe(401)
  })
})
