// Streams stay streams: each upstream chunk reaches the client before the next one is sent,
// and a client that hangs up stops the upstream request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import type { AuditLine } from '../helpers/audit-lines.js'
import type { MaskingEngine } from '../../src/masking/index.js'
import { eventually } from '../helpers/eventually.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

const auditLines = () => readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)

/**
 * Lock step: the fake sends chunk i only after the test has seen chunk i-1 at the client. `hidden`
 * are the chunks the gateway keeps from the client (the usage chunk it asked for itself).
 */
function lockStep (hidden: readonly number[] = []) {
  let seen = 0
  const waiters = new Map<number, () => void>()
  const needs = (i: number) => i - hidden.filter((h) => h < i).length
  return {
    beforeChunk: (i: number) => (needs(i) <= seen ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(needs(i), resolve))),
    sawChunk: () => { seen++; waiters.get(seen)?.() }
  }
}

async function streamThrough (path: string, body: Record<string, unknown>, expectChunks: number, hidden: number[] = []) {
  const ls = lockStep(hidden)
  gw.fake.script = { ...defaultScript(), tokens: ['one ', 'two ', 'three'], beforeChunk: ls.beforeChunk }
  const res = await request(gw.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...gw.auth }, dispatcher: gw.dispatcher })
  const received: string[] = []
  for await (const chunk of res.body) {
    received.push((chunk as Buffer).toString('utf8'))
    ls.sawChunk()
  }
  expect(received.length).toBeGreaterThanOrEqual(expectChunks)
  return { res, text: received.join('') }
}

describe('streaming passes chunk by chunk', () => {
  it('NDJSON /api/chat: every chunk reaches the client before the next is sent, and the stream is unaltered', async () => {
    const { res, text } = await streamThrough('/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }, 4)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('application/x-ndjson')
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => (l.message as { content: string }).content).join('')).toBe('one two three')
    expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 3, prompt_eval_count: 7 })
  })

  it('SSE /v1/chat/completions: every event reaches the client before the next is sent, ending with [DONE]', async () => {
    // three tokens, the closing chunk, then the usage chunk Gatehouse asked for (index 4, never shown), then [DONE]
    const { res, text } = await streamThrough('/v1/chat/completions', { model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'hi' }] }, 5, [4])
    expect(res.headers['content-type']).toContain('text/event-stream')
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    const content = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => (JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content: string } }> }).choices[0]?.delta.content).join('')
    expect(content).toBe('one two three')
  })

  it('a client that disconnects mid-stream makes the gateway abort the upstream request', async () => {
    let release: () => void = () => {}
    const hold = new Promise<void>((resolve) => { release = resolve })
    gw.fake.script = { ...defaultScript(), tokens: ['a', 'b', 'c'], beforeChunk: (i) => (i === 0 ? Promise.resolve() : hold) }
    const before = gw.fake.abortedRequests()
    const ac = new AbortController()
    const res = await request(gw.url + '/api/generate', { method: 'POST', body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }), headers: gw.auth, dispatcher: gw.dispatcher, signal: ac.signal })
    const it = res.body[Symbol.asyncIterator]()
    await it.next() // first chunk arrived
    const aborted = gw.fake.waitForAbort(3000)
    ac.abort()
    await aborted
    expect(gw.fake.abortedRequests()).toBe(before + 1)
    release()
    // the abandoned stream is still audited, as cut short by the client
    await eventually(() => {
      const last = auditLines().filter((e) => e.event.action === 'model-request' && e.url?.path === '/api/generate').at(-1)
      expect(last).toMatchObject({ event: { outcome: 'failure' }, gatehouse: { reason: 'client-closed', decision: 'allow' } })
    })
  })
})

describe('a client that gives up before Ollama answers', () => {
  it('aborts the upstream request and is audited as 499 client-closed', async () => {
    gw.fake.script = { ...defaultScript(), delayHeadersMs: 800 }
    const ac = new AbortController()
    const shown = gw.fake.received.filter((r) => r.url === '/api/show').length
    const pending = request(gw.url + '/api/show', { method: 'POST', body: JSON.stringify({ model: 'llama3.2' }), headers: gw.auth, dispatcher: gw.dispatcher, signal: ac.signal }).catch(() => null)
    // give up only once Ollama holds the request (it answers after 800 ms)
    await eventually(() => expect(gw.fake.received.filter((r) => r.url === '/api/show')).toHaveLength(shown + 1))
    const aborted = gw.fake.waitForAbort(3000)
    ac.abort()
    await pending
    await aborted
    await eventually(() => {
      const last = auditLines().filter((e) => e.url?.path === '/api/show').at(-1)
      expect(last).toMatchObject({ event: { action: 'model-request', outcome: 'failure' }, http: { response: { status_code: 499 } }, gatehouse: { reason: 'client-closed' } })
    })
  })
})

/** a generate request by node:https, whose reply stops reading its socket while paused */
function pausedGenerate (g: TestGateway): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    httpsRequest(`${g.url}/api/generate`, { method: 'POST', ca: g.certs.ca, headers: { ...g.auth, 'content-type': 'application/json' } }, (res) => {
      res.pause()
      resolve(res)
    }).on('error', reject).end(JSON.stringify({ model: 'llama3.2', prompt: 'x' }))
  })
}
/** about 24 MB of NDJSON, several times what the sockets between Ollama and the client hold (4–8 MB
 * here); long lines, as each pause and resume of the upstream reply costs the reader a copy of what
 * waits in its socket */
const bigReply = Array.from({ length: 600 }, (_, i) => `${i} ${'lorem ipsum '.repeat(3400)}`)

describe('a client that stops reading', () => {
  // the stall timeout (the host's idleTimeoutMs) is far away here, so it is not what is tested
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ upstream: { idleTimeoutMs: 120_000 } }) })
  afterAll(async () => { await gw.close() })

  it('pauses Ollama instead of buffering its reply, and the whole reply arrives once the client reads again', async () => {
    const tokens = bigReply
    gw.fake.script = { ...defaultScript(), tokens }
    const res = await pausedGenerate(gw)
    /** requests through the gateway to Ollama and back: turns of both event loops */
    const roundTrips = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        const r = await request(gw.url + '/api/tags', { headers: gw.auth, dispatcher: gw.dispatcher })
        expect(r.statusCode).toBe(200)
        await r.body.dump()
      }
    }
    // stalled: Ollama waits for its socket to drain, and round trips through the gateway, in which a
    // gateway that kept reading the reply would let it write on, do not move it
    const stalled = await eventually(async () => {
      const before = gw.fake.streamProgress()
      await roundTrips()
      expect(gw.fake.streamProgress()).toEqual({ ...before, waitingForDrain: true })
      return before.written
    }, { timeoutMs: 15_000, intervalMs: 250 })
    expect(stalled).toBeLessThan(tokens.length)

    const parts: Buffer[] = []
    for await (const chunk of res) parts.push(chunk as Buffer)
    const lines = Buffer.concat(parts).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { response?: string, done: boolean })
    expect(lines).toHaveLength(tokens.length + 1)
    expect(lines.slice(0, -1).map((l) => l.response)).toEqual(tokens)
    expect(lines.at(-1)?.done).toBe(true)
  })

  it('disconnects a client that reads nothing for the stall timeout, stops Ollama, and audits the stream as cut short by the client', async () => {
    const quick = await startTestGateway({ upstream: { idleTimeoutMs: 1000 } })
    try {
      quick.fake.script = { ...defaultScript(), tokens: bigReply }
      const aborted = quick.fake.abortedRequests()
      const res = await pausedGenerate(quick)
      res.on('error', () => {}) // the reply is cut: what it had is not what is tested
      await eventually(() => expect(quick.fake.abortedRequests()).toBe(aborted + 1), { timeoutMs: 15_000 })
      // reading again, the client finds its reply cut before its end
      res.resume()
      const ended = await new Promise<boolean>((resolve) => { res.once('end', () => resolve(true)); res.once('close', () => resolve(res.complete)) })
      expect(ended).toBe(false)
      const log = () => readFileSync(join(quick.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)
      await eventually(() => {
        const events = log().filter((e) => e.http?.request.id === res.headers['x-request-id'])
        expect(events).toHaveLength(1)
        expect(events[0]).toMatchObject({ event: { outcome: 'failure' }, gatehouse: { reason: 'client-closed', decision: 'allow' } })
      })
    } finally {
      await quick.close()
    }
  })
})

describe('a reply stage that throws', () => {
  it('ends the stream with an error line, stops Ollama, and is audited as a reply that did not reach its end', async () => {
    const masking = gw.gateway.masking as MaskingEngine
    const original = masking.replyStage.bind(masking)
    // the second chunk makes the stage throw, as a bug would
    masking.replyStage = (kind, framing, obs) => {
      const stage = original(kind, framing, obs)
      let pushed = 0
      return { get closed () { return stage.closed }, end: () => stage.end(), push: (c) => { if (++pushed === 2) throw new Error('bug'); return stage.push(c) } }
    }
    let release: () => void = () => {}
    const hold = new Promise<void>((resolve) => { release = resolve })
    gw.fake.script = { ...defaultScript(), tokens: ['a ', 'b ', 'c '], beforeChunk: (i) => (i >= 2 ? hold : Promise.resolve()) }
    const aborted = gw.fake.abortedRequests()
    try {
      const res = await request(gw.url + '/api/generate', { method: 'POST', body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }), headers: gw.auth, dispatcher: gw.dispatcher })
      const lines = (await res.body.text()).trim().split('\n')
      expect(JSON.parse(lines.at(-1) as string)).toEqual({ error: 'gatehouse could not process the upstream reply' })
      await eventually(() => expect(gw.fake.abortedRequests()).toBe(aborted + 1))
      await eventually(() => {
        const events = auditLines().filter((e) => e.http?.request.id === res.headers['x-request-id'])
        expect(events).toHaveLength(1)
        expect(events[0]).toMatchObject({ event: { outcome: 'failure' }, gatehouse: { reason: 'upstream-bad-reply', decision: 'allow' } })
      })
    } finally {
      release()
      masking.replyStage = original
    }
  })
})
