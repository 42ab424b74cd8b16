// Gatehouse in front of several Ollama hosts, end to end over real sockets: routing by model and
// load, the wait for a free slot, failover before the first byte (and none after it), ejection and
// readmission, lists merged across hosts, model management fanned out or aimed at one host, and
// what the audit, metrics and readiness say about it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { ollamaClient, openaiClient } from '../helpers/clients.js'
import { eventually } from '../helpers/eventually.js'
import { loginWithMfa } from '../helpers/login.js'
import { cli, tempConfig } from '../helpers/cli.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { isEjected, isHealthy } from '../../src/fleet/host-state.js'

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => { for (const o of open.splice(0).reverse()) await o.close().catch(() => {}) })

const NAMES = ['gpu-a', 'gpu-b', 'gpu-c']

interface FleetOptions {
  loaded?: string[][]
  maxConcurrent?: Array<number | undefined>
  upstream?: Record<string, unknown>
  overrides?: Record<string, unknown>
  clock?: ManualClock
}

async function fleetGateway (models: string[][], o: FleetOptions = {}): Promise<{ gw: TestGateway, fakes: FakeOllama[] }> {
  const fakes: FakeOllama[] = []
  for (const [i, m] of models.entries()) {
    const f = await startFakeOllama()
    f.script.models = m
    f.script.loaded = o.loaded?.[i] ?? []
    open.push(f)
    fakes.push(f)
  }
  const hosts = fakes.map((f, i) => ({ name: NAMES[i], url: f.url, ...(o.maxConcurrent?.[i] !== undefined ? { maxConcurrent: o.maxConcurrent[i] } : {}) }))
  const gw = await startTestGateway({
    rateLimit: { requestsPerMinute: 100000, concurrentStreams: 1000 },
    ...o.overrides,
    upstream: { hosts, ...o.upstream }
  }, { fake: fakes[0], ...(o.clock ? { clock: o.clock } : {}) })
  open.push(gw)
  return { gw, fakes }
}

const chatBody = (model: string, stream = false) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream })
const chat = (gw: TestGateway, model: string, stream = false, headers: Record<string, string> = {}) =>
  call(gw, 'POST', '/api/chat', { body: chatBody(model, stream), headers: { 'content-type': 'application/json', ...headers } })
const count = (f: FakeOllama, url: string) => f.received.filter((r) => r.url === url).length
const auditLines = (gw: TestGateway) => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { event: { action: string }, url?: { path: string }, gatehouse: Record<string, unknown>, http?: { request: { id?: string } } })
const eventOf = (gw: TestGateway, requestId: string | string[] | undefined) =>
  auditLines(gw).find((e) => e.http?.request.id === requestId && e.event.action === 'model-request')

describe('routing by model', () => {
  it('sends each model to a host that has it, and contacts no host for a model none has', async () => {
    const { gw, fakes } = await fleetGateway([['llama3.2:latest'], ['mistral:7b']])
    expect((await chat(gw, 'mistral:7b')).status).toBe(200)
    expect((await chat(gw, 'llama3.2')).status).toBe(200)
    expect(count(fakes[0]!, '/api/chat')).toBe(1)
    expect(count(fakes[1]!, '/api/chat')).toBe(1)
    expect(fakes[1]!.received.find((r) => r.url === '/api/chat')?.json?.model).toBe('mistral:7b')
    const served = await chat(gw, 'mistral:7b')
    expect(eventOf(gw, served.headers['x-request-id'])?.gatehouse).toMatchObject({ upstream: 'gpu-b', attempts: 1 })

    const absent = await chat(gw, 'phi3')
    expect(absent.status).toBe(404)
    expect(absent.json).toEqual({ error: 'model "phi3:latest" is not available on any host' })
    const openai = await call(gw, 'POST', '/v1/chat/completions', { body: chatBody('phi3'), headers: { 'content-type': 'application/json' } })
    expect(openai.status).toBe(404)
    expect(openai.json).toMatchObject({ error: { message: 'model "phi3:latest" is not available on any host', code: 'GH_ERR_MODEL_NOT_ON_ANY_HOST' } })
    const show = await call(gw, 'POST', '/api/show', { body: '{"model":"mistral:7b"}', headers: { 'content-type': 'application/json' } })
    expect(show.status).toBe(200)
    expect(count(fakes[1]!, '/api/show')).toBe(1)
    expect((await call(gw, 'GET', '/v1/models/llama3.2')).status).toBe(200)
    expect(count(fakes[0]!, '/v1/models/llama3.2:latest') + count(fakes[0]!, '/v1/models/llama3.2')).toBe(1)
    for (const f of fakes) expect(f.received.filter((r) => JSON.stringify(r.json ?? {}).includes('phi3'))).toEqual([])
  })

  it('prefers a host where the model is already loaded', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest'], ['m:latest']], { loaded: [[], ['m:latest'], []] })
    for (let i = 0; i < 4; i++) expect((await chat(gw, 'm')).status).toBe(200)
    expect(fakes.map((f) => count(f, '/api/chat'))).toEqual([0, 4, 0])
  })

  it('spreads concurrent requests over equal hosts (each within one of N/3)', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest'], ['m:latest']])
    for (const f of fakes) f.script.delayHeadersMs = 300
    const n = 12
    const replies = await Promise.all(Array.from({ length: n }, () => chat(gw, 'm')))
    expect(replies.map((r) => r.status)).toEqual(Array(n).fill(200))
    for (const f of fakes) expect(Math.abs(count(f, '/api/chat') - n / 3)).toBeLessThanOrEqual(1)
  })
})

describe('maxConcurrent', () => {
  it('a request waits for a free slot, then is served', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], { maxConcurrent: [1, 1], upstream: { queueTimeoutMs: 5000 } })
    for (const f of fakes) f.script.delayHeadersMs = 300
    const started = Date.now()
    const replies = await Promise.all([chat(gw, 'm'), chat(gw, 'm'), chat(gw, 'm')])
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200])
    // two at a time: the third could only start once one of the first two was done
    expect(Date.now() - started).toBeGreaterThanOrEqual(550)
    expect(count(fakes[0]!, '/api/chat') + count(fakes[1]!, '/api/chat')).toBe(3)
  })

  it('every candidate at maxConcurrent past queueTimeoutMs is a 503 with Retry-After', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], { maxConcurrent: [1, 1], upstream: { queueTimeoutMs: 200 } })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    // both hosts hold their request until the third has been refused
    for (const f of fakes) f.script.beforeHeaders = () => held
    const busy = [chat(gw, 'm'), chat(gw, 'm')]
    await eventually(() => expect(gw.gateway.fleet.hosts.map((h) => h.inFlight)).toEqual([1, 1]))
    const refused = await chat(gw, 'm')
    release()
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(refused.json).toEqual({ error: 'all hosts serving m:latest are busy' })
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([200, 200])
    expect(count(fakes[0]!, '/api/chat') + count(fakes[1]!, '/api/chat')).toBe(2)
  })
})

describe('failover, ejection and readmission', () => {
  it('a killed host: requests fail over, the host is ejected, and comes back after the cooldown once it answers', async () => {
    const clock = manualClock(Date.now())
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], {
      clock, upstream: { health: { intervalSeconds: 10, failuresToEject: 2, cooldownSeconds: 30 } }
    })
    const port = fakes[0]!.port
    await fakes[0]!.close()
    const ids: Array<string | string[] | undefined> = []
    for (let i = 0; i < 6; i++) {
      const r = await chat(gw, 'm')
      expect(r.status).toBe(200)
      ids.push(r.headers['x-request-id'])
    }
    const a = gw.gateway.fleet.hosts[0]!
    expect(isEjected(a, clock.now())).toBe(true)
    expect(a.lastError).toMatch(/unavailable/)
    expect(count(fakes[1]!, '/api/chat')).toBe(6)
    const events = ids.map((id) => eventOf(gw, id)?.gatehouse)
    expect(events.filter((g) => g?.attempts === 2)).toHaveLength(2)
    expect(events.every((g) => g?.upstream === 'gpu-b')).toBe(true)

    const back = await startFakeOllama({ port })
    back.script.models = ['m:latest']
    back.script.loaded = []
    open.push(back)
    clock.advance(10_000) // a probe inside the cooldown leaves the host out
    expect(isEjected(a, clock.now())).toBe(true)
    clock.advance(20_000)
    await eventually(() => expect(isHealthy(a, clock.now())).toBe(true))
    for (let i = 0; i < 4; i++) expect((await chat(gw, 'm')).status).toBe(200)
    expect(count(back, '/api/chat')).toBeGreaterThan(0)
  })

  it('a host that accepts the connection but never answers: headers timeout, then another host', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], { loaded: [['m:latest'], []], upstream: { headersTimeoutMs: 400 } })
    fakes[0]!.script.delayHeadersMs = 10_000
    const r = await chat(gw, 'm')
    expect(r.status).toBe(200)
    expect(count(fakes[0]!, '/api/chat')).toBe(1)
    expect(count(fakes[1]!, '/api/chat')).toBe(1)
    expect(eventOf(gw, r.headers['x-request-id'])?.gatehouse).toMatchObject({ upstream: 'gpu-b', attempts: 2 })
  })

  it('a 5xx before the first byte is retried on another host once, and only once', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest'], ['m:latest']], { loaded: [['m:latest'], [], []] })
    fakes[0]!.script.fail = { status: 500, error: 'out of memory' }
    const ok = await chat(gw, 'm')
    expect(ok.status).toBe(200)
    expect(eventOf(gw, ok.headers['x-request-id'])?.gatehouse).toMatchObject({ attempts: 2 })

    for (const f of fakes) { f.script.fail = { status: 500, error: 'out of memory' }; f.received.length = 0 }
    const failed = await chat(gw, 'm')
    expect(failed.status).toBe(500)
    expect(failed.json).toEqual({ error: 'out of memory' })
    expect(fakes.reduce((n, f) => n + count(f, '/api/chat'), 0)).toBe(2)
  })

  it('a whole (non-streamed) reply cut short is read before anything is sent, so it is retried on another host', async () => {
    // a host that lists the model, then sends half a JSON reply and resets the connection
    const { createServer } = await import('node:http')
    const broken = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        if (req.url === '/api/tags' || req.url === '/api/ps') {
          res.writeHead(200, { 'content-type': 'application/json' })
          return res.end(JSON.stringify({ models: [{ name: 'm:latest', model: 'm:latest' }] }))
        }
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': '500' })
        res.write('{"model":"m","message":{"role":"assistant","content":"Hel')
        setImmediate(() => req.socket.destroy())
      })
    })
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => { broken.closeAllConnections(); broken.close(() => resolve()) }) })
    const good = await startFakeOllama()
    good.script.models = ['m:latest']
    good.script.loaded = []
    open.push(good)
    const gw = await startTestGateway({
      upstream: { hosts: [{ name: 'gpu-a', url: `http://127.0.0.1:${(broken.address() as { port: number }).port}` }, { name: 'gpu-b', url: good.url }] }
    }, { fake: good })
    open.push(gw)
    for (let i = 0; i < 2; i++) {
      const r = await chat(gw, 'm')
      expect(r.status).toBe(200)
      expect(r.json).toMatchObject({ message: { content: 'Hello, world!' } })
    }
    expect(count(good, '/api/chat')).toBe(2)
    const attempts = auditLines(gw).filter((e) => e.event.action === 'model-request').map((e) => e.gatehouse.attempts)
    expect(attempts).toContain(2)
  })

  it('a failure after the first byte ends the stream with an error line and is not retried', async () => {
    // masking off, so the first line goes out as it comes (a masker may hold text back)
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], { loaded: [['m:latest'], []], overrides: { masking: { enabled: false } } })
    // the first line goes out, then a pause, then the connection is reset after the second
    fakes[0]!.script.stopAfter = { chunks: 2, how: 'destroy' }
    fakes[0]!.script.beforeChunk = async (i) => { if (i === 1) await new Promise((resolve) => setTimeout(resolve, 200)) }
    const r = await chat(gw, 'm', true)
    expect(r.status).toBe(200)
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines[0]).toMatchObject({ message: { content: 'Hello' } })
    expect(lines.at(-1)).toHaveProperty('error')
    expect(count(fakes[1]!, '/api/chat')).toBe(0)
  })

  it('a client that hangs up aborts the request on the host serving it and frees its slot', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']], { loaded: [[], ['m:latest']], maxConcurrent: [1, 1] })
    fakes[1]!.script.beforeChunk = (i) => (i === 0 ? Promise.resolve() : new Promise(() => {}))
    const aborted = fakes[1]!.waitForAbort()
    const controller = new AbortController()
    const { request } = await import('undici')
    const res = await request(gw.url + '/api/chat', {
      method: 'POST', headers: { ...gw.auth, 'content-type': 'application/json' }, body: chatBody('m', true), dispatcher: gw.dispatcher, signal: controller.signal
    })
    await eventually(() => expect(gw.gateway.fleet.hosts[1]!.inFlight).toBe(1))
    controller.abort()
    await res.body.text().catch(() => {})
    await aborted
    await eventually(() => expect(gw.gateway.fleet.hosts[1]!.inFlight).toBe(0))
    expect(gw.gateway.fleet.hosts[1]!.consecutiveFailures).toBe(0) // a hang-up is not the host's failure
  })

  it('a host that answers 404 for a model it listed has its model list read again at once', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['other:latest']])
    fakes[0]!.script.models = ['gone:latest']
    const before = count(fakes[0]!, '/api/tags')
    expect((await chat(gw, 'm')).status).toBe(404)
    await eventually(() => expect(count(fakes[0]!, '/api/tags')).toBe(before + 1))
    await eventually(() => expect([...gw.gateway.fleet.hosts[0]!.models ?? []]).toEqual(['gone:latest']))
    expect((await chat(gw, 'm')).json).toEqual({ error: 'model "m:latest" is not available on any host' })
  })
})

describe('lists across hosts', () => {
  it('/api/tags, /v1/models and /api/ps are the union over hosts, one entry per model, filtered by role', async () => {
    const { gw } = await fleetGateway([['llama3.2:latest', 'secret-model:latest'], ['mistral:7b', 'llama3.2:latest']], {
      loaded: [['llama3.2:latest'], ['llama3.2:latest', 'mistral:7b']],
      overrides: {
        rbac: {
          roles: {
            admin: { permissions: ['*'], models: ['*'] },
            user: { permissions: ['inference', 'models:read'], models: ['llama3.2', 'mistral:*'] }
          }
        },
        auth: { mfa: { requiredForRoles: [] } }
      }
    })
    const user = { authorization: `Bearer ${await gw.createKey('user')}` }
    const tags = await call(gw, 'GET', '/api/tags', { headers: user })
    expect((tags.json?.models as Array<{ name: string }>).map((m) => m.name)).toEqual(['llama3.2:latest', 'mistral:7b'])
    const v1 = await call(gw, 'GET', '/v1/models', { headers: user })
    expect((v1.json?.data as Array<{ id: string }>).map((m) => m.id)).toEqual(['llama3.2:latest', 'mistral:7b'])
    const all = await call(gw, 'GET', '/api/tags')
    expect((all.json?.models as Array<{ name: string }>).map((m) => m.name)).toEqual(['llama3.2:latest', 'secret-model:latest', 'mistral:7b'])
    const ps = await call(gw, 'GET', '/api/ps')
    expect((ps.json?.models as Array<{ name: string }>).map((m) => m.name)).toEqual(['llama3.2:latest', 'mistral:7b'])
    expect((await call(gw, 'GET', '/api/version')).json).toEqual({ version: '0.12.6' })
  })
})

describe('model management', () => {
  const pull = (gw: TestGateway, headers: Record<string, string> = {}) =>
    call(gw, 'POST', '/api/pull', { body: '{"model":"m"}', headers: { 'content-type': 'application/json', ...headers } })
  const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)

  it('a pull goes to every host: progress lines name their host, one success line ends it', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest']])
    const r = await pull(gw)
    expect(r.status).toBe(200)
    const got = lines(r.text)
    expect(got.at(-1)).toEqual({ status: 'success' })
    expect(got.filter((l) => l.status === 'success')).toHaveLength(1)
    expect(new Set(got.slice(0, -1).map((l) => l.upstream))).toEqual(new Set(['gpu-a', 'gpu-b']))
    for (const f of fakes) expect(count(f, '/api/pull')).toBe(1)
  })

  it('a pull that fails on one host ends with an error line naming that host, not success', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest']])
    fakes[1]!.script.fail = { status: 500, error: 'no space left on device' }
    const got = lines((await pull(gw)).text)
    expect(got.filter((l) => l.status === 'success')).toEqual([])
    expect(got.at(-1)?.error).toMatch(/gpu-b: no space left on device/)
    expect(String(got.at(-1)?.error)).not.toMatch(/gpu-a/)
    expect(got.slice(0, -1).every((l) => l.upstream === 'gpu-a')).toBe(true)
  })

  it('a host whose progress line is over the frame bound fails at once, named, and the others still finish', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest']])
    fakes[1]!.script.rawReply = { contentType: 'application/x-ndjson', body: `{"status":"${'x'.repeat(9 * 1024 * 1024)}"}\n` }
    const got = lines((await pull(gw)).text)
    expect(got.at(-1)?.error).toMatch(/gpu-b: sent a line that is too long/)
    expect(String(got.at(-1)?.error)).not.toMatch(/gpu-a/)
    expect(got.slice(0, -1).every((l) => l.upstream === 'gpu-a')).toBe(true)
  })

  it('X-Gatehouse-Upstream sends it to that host only, and never reaches Ollama; an unknown name is a 400', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest']])
    const r = await pull(gw, { 'x-gatehouse-upstream': 'gpu-b' })
    expect(r.status).toBe(200)
    expect(lines(r.text).at(-1)).toEqual({ status: 'success' })
    expect(count(fakes[0]!, '/api/pull')).toBe(0)
    expect(count(fakes[1]!, '/api/pull')).toBe(1)
    expect(fakes[1]!.received.find((q) => q.url === '/api/pull')?.headers['x-gatehouse-upstream']).toBeUndefined()

    const unknown = await pull(gw, { 'x-gatehouse-upstream': 'gpu-z' })
    expect(unknown.status).toBe(400)
    expect(unknown.json?.error).toMatch(/gpu-z.*gpu-a, gpu-b/)
    expect(fakes.reduce((n, f) => n + count(f, '/api/pull'), 0)).toBe(1)
  })

  it('a client that hangs up on a fanned-out pull aborts every host\'s request', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest']])
    // each host sends its first progress line, then holds the stream open
    for (const f of fakes) f.script.beforeChunk = (i) => (i === 0 ? Promise.resolve() : new Promise(() => {}))
    const aborted = fakes.map((f) => f.waitForAbort())
    const controller = new AbortController()
    const { request } = await import('undici')
    const res = await request(gw.url + '/api/pull', {
      method: 'POST', headers: { ...gw.auth, 'content-type': 'application/json' }, body: '{"model":"m"}', dispatcher: gw.dispatcher, signal: controller.signal
    })
    expect(res.statusCode).toBe(200)
    await eventually(() => expect(fakes.every((f) => count(f, '/api/pull') === 1)).toBe(true))
    controller.abort()
    await res.body.text().catch(() => {})
    await Promise.all(aborted)
    await eventually(() => expect(gw.gateway.fleet.hosts.map((h) => h.inFlight)).toEqual([0, 0]))
  })

  it('a delete goes only to the hosts that have the model', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['x:latest'], ['m:latest']])
    const r = await call(gw, 'DELETE', '/api/delete', { body: '{"model":"m"}', headers: { 'content-type': 'application/json' } })
    expect(r.status).toBe(200)
    expect(fakes.map((f) => count(f, '/api/delete'))).toEqual([1, 0, 1])
  })
})

describe('through real clients', () => {
  it('the ollama and openai packages stream through a three-host fleet', async () => {
    const { gw, fakes } = await fleetGateway([['llama3.2:latest'], ['llama3.2:latest'], ['llama3.2:latest']])
    const ollama = ollamaClient(gw.url, gw.dispatcher, gw.auth)
    const openai = openaiClient(gw.url, gw.dispatcher, gw.adminKey)
    for (let i = 0; i < 3; i++) {
      let text = ''
      for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) text += part.message.content
      expect(text).toBe('Hello, world!')
      let sse = ''
      for await (const c of await openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) sse += c.choices[0]?.delta.content ?? ''
      expect(sse).toBe('Hello, world!')
    }
    for (const f of fakes) expect(count(f, '/api/chat') + count(f, '/v1/chat/completions')).toBe(2)
  })
})

describe('operations', () => {
  it('metrics carry the upstream label and per-host health and in-flight gauges', async () => {
    const { gw } = await fleetGateway([['m:latest'], ['x:latest']])
    expect((await chat(gw, 'x')).status).toBe(200)
    const text = (await call(gw, 'GET', '/metrics')).text
    expect(text).toMatch(/gatehouse_upstream_healthy\{upstream="gpu-a"\} 1/)
    expect(text).toMatch(/gatehouse_upstream_healthy\{upstream="gpu-b"\} 1/)
    expect(text).toMatch(/gatehouse_upstream_in_flight\{upstream="gpu-a"\} 0/)
    expect(text).toMatch(/gatehouse_http_requests_total\{[^}]*route="POST \/api\/chat"[^}]*upstream="gpu-b"\} 1/)
  })

  it('/readyz is ready while one host answers, and names ollama when none does', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest'], ['m:latest']])
    await fakes[0]!.close()
    expect((await call(gw, 'GET', '/readyz', { anonymous: true })).status).toBe(200)
    await fakes[1]!.close()
    const down = await call(gw, 'GET', '/readyz', { anonymous: true })
    expect(down.status).toBe(503)
    expect(down.json).toEqual({ status: 'not ready', failing: ['ollama'] })
  })
})

describe('the operator\'s view', () => {
  it('GET /admin/upstreams shows each host to an admin session, and refuses an API key', async () => {
    const { gw, fakes } = await fleetGateway([['m:latest', 'n:latest'], ['m:latest']], { loaded: [['n:latest'], []], maxConcurrent: [2, undefined] })
    await fakes[1]!.close()
    expect((await chat(gw, 'm')).status).toBe(200) // gpu-b refuses the connection (a failure on record) or gpu-a serves
    const password = 'correct horse battery staple'
    await gw.gateway.auth.userAdmin.addUser('fleet-admin', 'admin', password)
    const { token } = await loginWithMfa(gw, 'fleet-admin', password)
    const res = await call(gw, 'GET', '/admin/upstreams', { anonymous: true, headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const [a, b] = (res.json as { upstreams: Array<Record<string, unknown>> }).upstreams
    expect(a).toMatchObject({
      name: 'gpu-a', url: fakes[0]!.url, healthy: true, inFlight: 0, maxConcurrent: 2,
      models: ['m:latest', 'n:latest'], loaded: ['n:latest'], lastError: null, cooldownUntil: null
    })
    expect(typeof a?.lastSeen).toBe('string')
    expect(b).toMatchObject({ name: 'gpu-b', maxConcurrent: null, models: ['m:latest'] })
    expect(Object.keys(b ?? {}).sort()).toEqual(['cooldownUntil', 'healthy', 'inFlight', 'lastError', 'lastSeen', 'loaded', 'maxConcurrent', 'models', 'name', 'url'])
    expect((await call(gw, 'GET', '/admin/upstreams')).status).toBe(403)
  })

  it('gatehouse upstreams check probes each host: version and model count, exit 1 when one does not answer', async () => {
    const up = await startFakeOllama()
    up.script.models = ['m:latest', 'n:latest']
    const down = await startFakeOllama()
    open.push(up)
    await down.close()
    const { file } = tempConfig({ upstream: { hosts: [{ name: 'gpu-a', url: up.url }, { name: 'gpu-b', url: down.url }], connectTimeoutMs: 500 } })
    const run = await cli(['upstreams', 'check', '--json', '--config', file])
    expect(run.code).toBe(1)
    const { upstreams } = run.json() as { upstreams: Array<Record<string, unknown>> }
    expect(upstreams[0]).toEqual({ name: 'gpu-a', url: up.url, answers: true, version: '0.12.6', models: 2, error: null })
    expect(upstreams[1]).toMatchObject({ name: 'gpu-b', answers: false, version: null, models: null })
    const { file: one } = tempConfig({ upstream: { url: up.url } })
    const ok = await cli(['upstreams', 'check', '--config', one])
    expect(ok.code).toBe(0)
    expect(ok.out).toMatch(/default\s+http:\/\/127\.0\.0\.1:\d+\s+yes\s+0\.12\.6\s+2/)
  })
})
