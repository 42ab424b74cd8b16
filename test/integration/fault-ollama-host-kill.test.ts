// Fault: one Ollama host of a fleet dies while streams run on it, then comes back on its old port.
// The streams it was serving end with an error line (never a silent cut, never a fake `done`) and
// their audit events say so; new requests fail over to the other host; once the host answers again
// and the cooldown has passed, it is routed to again.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { eventually } from '../helpers/eventually.js'
import { manualClock } from '../helpers/clock.js'
import { isEjected, isHealthy } from '../../src/fleet/host-state.js'

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => { for (const o of open.splice(0).reverse()) await o.close().catch(() => {}) })

const chatBody = (stream: boolean) => JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream })
const chat = (gw: TestGateway, stream: boolean) => call(gw, 'POST', '/api/chat', { body: chatBody(stream), headers: { 'content-type': 'application/json' } })
const chats = (f: FakeOllama) => f.received.filter((r) => r.url === '/api/chat').length
const eventOf = (gw: TestGateway, id: unknown) => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { event: { action: string, outcome: string }, http?: { request: { id?: string } }, gatehouse: Record<string, unknown> })
  .find((e) => e.http?.request.id === id && e.event.action === 'model-request')

describe('an Ollama host killed mid-stream and restarted', () => {
  it('its streams end with an error line, new requests fail over, and it rejoins after the cooldown', async () => {
    const clock = manualClock(Date.now())
    const fakes: FakeOllama[] = []
    for (const loaded of [['m:latest'], []]) {
      const f = await startFakeOllama()
      f.script.models = ['m:latest']
      f.script.loaded = loaded
      fakes.push(f)
      open.push(f)
    }
    const [a, b] = fakes as [FakeOllama, FakeOllama]
    const gw = await startTestGateway({
      rateLimit: { requestsPerMinute: 100000, concurrentStreams: 1000 },
      upstream: { hosts: [{ name: 'gpu-a', url: a.url }, { name: 'gpu-b', url: b.url }], health: { intervalSeconds: 10, failuresToEject: 2, cooldownSeconds: 30 } }
    }, { fake: a, clock })
    open.push(gw)

    // three streams on gpu-a (it has the model loaded), held after their first token
    a.script.beforeChunk = (i) => (i === 1 ? new Promise(() => {}) : Promise.resolve())
    const streams = [0, 1, 2].map(() => chat(gw, true))
    await eventually(() => { expect(chats(a)).toBe(3) })
    const port = a.port
    await a.close()
    for (const s of await Promise.all(streams)) {
      expect(s.status).toBe(200)
      const lines = s.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines[0]).toMatchObject({ done: false })
      expect(lines.at(-1)).toEqual({ error: expect.any(String) })
      expect(lines.some((l) => l.done === true)).toBe(false)
      await eventually(() => {
        expect(eventOf(gw, s.headers['x-request-id'])).toMatchObject({ event: { outcome: 'failure' }, gatehouse: { upstream: 'gpu-a', reason: 'upstream-failed-mid-stream' } })
      })
    }

    for (let i = 0; i < 4; i++) {
      const r = await chat(gw, i % 2 === 0)
      expect(r.status).toBe(200)
      expect(r.text).toContain('"done":true')
      await eventually(() => { expect(eventOf(gw, r.headers['x-request-id'])?.gatehouse).toMatchObject({ upstream: 'gpu-b' }) })
    }
    const hostA = gw.gateway.fleet.hosts[0]!
    expect(isEjected(hostA, clock.now())).toBe(true)

    const back = await startFakeOllama({ port })
    back.script.models = ['m:latest']
    back.script.loaded = ['m:latest']
    open.push(back)
    clock.advance(31_000)
    await eventually(() => { expect(isHealthy(hostA, clock.now())).toBe(true) })
    const r = await chat(gw, true)
    expect(r.status).toBe(200)
    expect(chats(back)).toBe(1)
    expect(eventOf(gw, r.headers['x-request-id'])?.gatehouse).toMatchObject({ upstream: 'gpu-a', attempts: 1 })
  }, 20_000)
})
