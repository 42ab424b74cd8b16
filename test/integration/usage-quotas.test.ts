// Token usage and quotas end to end: every proxied request that reached Ollama is counted from its
// final frame, an identity at or over a quota is refused before Ollama sees the request, and a
// rotated key carries its name's usage and quota.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { request as undiciRequest } from 'undici'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/eventually.js'
import { openaiClient } from '../helpers/clients.js'
import type { AuditLine } from '../helpers/audit-lines.js'
import { counterKey, periodWindow } from '../../src/quotas/rules.js'

const H = 3_600_000
const DAY = 24 * H
// each scripted request costs 11 tokens: 7 prompt + 4 written
const COST = 11

let now = Date.UTC(2026, 11, 7, 12, 0, 0)
const clock = { now: () => now }
let gw: TestGateway
const keys: Record<string, string> = {}

const roles = {
  admin: { permissions: ['*'], models: ['*'] },
  user: { permissions: ['inference', 'models:read'], models: ['*'] },
  metered: { permissions: ['inference', 'models:read'], models: ['*'] },
  // replies unmasked: what reaches the client can be compared with Ollama's bytes
  raw: { permissions: ['inference', 'pii:unmasked'], models: ['*'] }
}

async function generate (key: string, stream = false) {
  return await call(gw, 'POST', '/api/generate', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', prompt: 'hi', stream })
  })
}

/** The shared day (or month) total of a key name, once the meter has added what ended. */
async function used (name: string, period: 'day' | 'month' = 'day'): Promise<number> {
  const w = periodWindow(period, clock.now())
  return await gw.gateway.quotaCounters.add(counterKey({ credential: 'api_key', name }, period, w), 0, w.end, clock.now())
}
const usedBecomes = async (name: string, n: number, period: 'day' | 'month' = 'day') =>
  await eventually(async () => { expect(await used(name, period)).toBe(n) })

function records (where = '1 = 1'): Array<Record<string, unknown>> {
  const db = new Database(join(gw.dir, 'data', 'gatehouse.db'), { readonly: true })
  try { return db.prepare(`SELECT * FROM usage_records WHERE ${where} ORDER BY id`).all() as Array<Record<string, unknown>> } finally { db.close() }
}

const auditLines = (): AuditLine[] =>
  readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine)

beforeAll(async () => {
  gw = await startTestGateway({
    rbac: { roles },
    quotas: {
      rules: [
        { key: 'at-limit', tokensPerDay: COST },
        { key: 'one-under', tokensPerDay: COST + 1 },
        { key: 'racer', tokensPerDay: COST + 1 },
        { key: 'rotating', tokensPerDay: 2 * COST },
        { key: 'monthly', tokensPerMonth: 2 * COST, tokensPerDay: 100 * COST },
        { role: 'metered', tokensPerDay: COST }
      ]
    }
  }, { clock })
  for (const name of ['at-limit', 'one-under', 'racer', 'free', 'failing', 'monthly']) keys[name] = await gw.createKey('user', name)
  keys.metered = await gw.createKey('metered', 'meter-me')
}, 30_000)
afterAll(async () => { await gw?.close() })
beforeEach(() => { gw.fake.reset() })

describe('counting', () => {
  it('a native request leaves one usage record with its tokens, model, upstream, status and identity', async () => {
    const before = gw.fake.received.length
    expect((await generate(keys.free as string, true)).status).toBe(200)
    expect(gw.fake.received.length).toBe(before + 1)
    await gw.gateway.flushUsage()
    const [r] = records("identity = 'free'")
    expect(r).toMatchObject({
      identity: 'free', credential: 'api_key', role: 'user', model: 'llama3.2:latest', upstream: 'default',
      input_tokens: 7, output_tokens: 4, status: 200, incomplete: 0
    })
    expect(Number(r?.duration_ms)).toBeGreaterThanOrEqual(0)
  })

  it('a request refused before Ollama leaves no usage record', async () => {
    await gw.gateway.flushUsage()
    const before = records().length
    const r = await call(gw, 'POST', '/api/generate', {
      headers: { authorization: `Bearer ${keys.free as string}`, 'content-type': 'application/json' }, body: '{"model":'
    })
    expect(r.status).toBe(400)
    await gw.gateway.flushUsage()
    expect(records().length).toBe(before)
  })
})

describe('quota edges', () => {
  it('exactly at the limit the next request is refused with 429, the message, Retry-After and the audit reason', async () => {
    expect((await generate(keys['at-limit'] as string)).status).toBe(200)
    await usedBecomes('at-limit', COST)
    const before = gw.fake.received.length
    const r = await generate(keys['at-limit'] as string)
    expect(r.status).toBe(429)
    expect(r.json).toEqual({ error: 'token quota exceeded: 11 tokens per day (key at-limit); resets at 2026-12-08T00:00:00Z' })
    expect(r.headers['retry-after']).toBe(String(12 * 3600))
    expect(gw.fake.received.length).toBe(before)
    const denied = await eventually(() => {
      const e = auditLines().find((l) => l.event.action === 'access-denied' && l.user?.name === 'at-limit')
      expect(e).toBeDefined()
      return e as AuditLine
    })
    expect(denied.gatehouse.reason).toBe('quota:day')
    expect(denied.http?.response?.status_code).toBe(429)
  })

  it('one token under the limit still passes; the request that goes over is counted, the next refused', async () => {
    expect((await generate(keys['one-under'] as string)).status).toBe(200)
    await usedBecomes('one-under', COST)
    expect((await generate(keys['one-under'] as string, true)).status).toBe(200)
    await usedBecomes('one-under', 2 * COST)
    expect((await generate(keys['one-under'] as string)).status).toBe(429)
  })

  it('a role rule names the role; a request in the OpenAI shape gets the OpenAI error shape', async () => {
    expect((await generate(keys.metered as string)).status).toBe(200)
    await eventually(async () => {
      const w = periodWindow('day', now)
      expect(await gw.gateway.quotaCounters.add(counterKey({ credential: 'api_key', name: 'meter-me' }, 'day', w), 0, w.end, now)).toBe(COST)
    })
    const r = await call(gw, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${keys.metered as string}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
    })
    expect(r.status).toBe(429)
    expect((r.json as { error: { message: string } }).error.message)
      .toBe('token quota exceeded: 11 tokens per day (role metered); resets at 2026-12-08T00:00:00Z')
  })

  it('requests racing a nearly exhausted quota all pass while in flight; the overrun is at most those requests', async () => {
    expect((await generate(keys.racer as string)).status).toBe(200)
    await usedBecomes('racer', COST)
    // hold every stream at its first chunk until all four have reached Ollama
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    gw.fake.script.beforeChunk = async () => { await gate }
    const base = gw.fake.received.length
    const racing = Array.from({ length: 4 }, async () => await generate(keys.racer as string, true))
    await eventually(() => { expect(gw.fake.received.length).toBe(base + 4) })
    release()
    expect((await Promise.all(racing)).map((r) => r.status)).toEqual([200, 200, 200, 200])
    await usedBecomes('racer', 5 * COST)
    expect((await generate(keys.racer as string)).status).toBe(429)
  })

  it('refusals are counted by period in the metrics, and tokens carry the upstream label', async () => {
    const text = await gw.gateway.metrics.render()
    expect(text).toMatch(/^gatehouse_quota_rejections_total\{period="day"\} [1-9]\d*$/m)
    expect(text).toMatch(/^gatehouse_tokens_total\{model="llama3.2:latest",role="user",upstream="default",direction="input"\} [1-9]\d*$/m)
  })

  it('counters that cannot be read refuse the request with 503 (never unmetered)', async () => {
    const counters = gw.gateway.quotaCounters
    const real = counters.add
    counters.add = async () => { throw new Error('store down') }
    try {
      const before = gw.fake.received.length
      // 'failing' has no rule: nothing to read, so it is not refused
      expect((await generate(keys.failing as string)).status).toBe(200)
      const r = await generate(keys['one-under'] as string)
      expect(r.status).toBe(503)
      expect(r.json).toEqual({ error: 'token quotas cannot be checked; request refused' })
      expect(gw.fake.received.length).toBe(before + 1)
    } finally {
      counters.add = real
    }
  })
})

describe('/v1 streams with the OpenAI SDK', () => {
  const chatBody = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra })

  it('without stream_options the client gets exactly Ollama\'s stream (no usage chunk), and the tokens are counted', async () => {
    const key = await gw.createKey('user', 'sdk-plain')
    const sdk = openaiClient(gw.url, gw.dispatcher, key)
    const chunks = []
    for await (const c of await sdk.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      chunks.push(c)
    }
    expect(chunks.map((c) => c.choices.length)).not.toContain(0)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello, world!')
    expect(gw.fake.received.at(-1)?.json?.stream_options).toEqual({ include_usage: true })
    await gw.gateway.flushUsage()
    expect(records("identity = 'sdk-plain'")).toMatchObject([{ input_tokens: 7, output_tokens: 4, incomplete: 0 }])

    // byte for byte what Ollama sends a client that did not ask for usage (masked or not, no usage chunk)
    const masked = await call(gw, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: chatBody()
    })
    expect(masked.text).not.toContain('"usage"')
    expect(masked.text.endsWith('"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')).toBe(true)
    const rawKey = await gw.createKey('raw', 'sdk-raw')
    const viaGateway = await call(gw, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${rawKey}`, 'content-type': 'application/json' },
      body: chatBody({ stream_options: { include_usage: false } })
    })
    expect(gw.fake.received.at(-1)?.json?.stream_options).toEqual({ include_usage: true })
    const direct = await undiciRequest(gw.fake.url + '/v1/chat/completions', { method: 'POST', body: chatBody() })
    expect(viaGateway.text).toBe(await direct.body.text())
    expect(viaGateway.text).not.toContain('"usage"')
  })

  it('with stream_options.include_usage the client gets the usage chunk as Ollama sends it', async () => {
    const key = await gw.createKey('user', 'sdk-usage')
    const sdk = openaiClient(gw.url, gw.dispatcher, key)
    const chunks = []
    const stream = await sdk.chat.completions.create({
      model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }
    })
    for await (const c of stream) chunks.push(c)
    const last = chunks.at(-1)
    expect(last?.choices).toEqual([])
    expect(last?.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4 })
    await gw.gateway.flushUsage()
    expect(records("identity = 'sdk-usage'")).toMatchObject([{ input_tokens: 7, output_tokens: 4 }])
  })

  it('unstreamed /v1 replies are counted from their usage block', async () => {
    const key = await gw.createKey('user', 'sdk-whole')
    const sdk = openaiClient(gw.url, gw.dispatcher, key)
    const reply = await sdk.completions.create({ model: 'llama3.2', prompt: 'hi' })
    expect(reply.usage?.prompt_tokens).toBe(7)
    expect(gw.fake.received.at(-1)?.json?.stream_options).toBeUndefined()
    await gw.gateway.flushUsage()
    expect(records("identity = 'sdk-whole'")).toMatchObject([{ input_tokens: 7, output_tokens: 4, model: 'llama3.2:latest' }])
  })
})

describe('a stream the client abandons', () => {
  it('is counted with the content frames it streamed (no final counts came), and flagged incomplete', async () => {
    const key = await gw.createKey('user', 'quitter')
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    gw.fake.script.beforeChunk = async (i) => { if (i >= 1) await held }
    const ac = new AbortController()
    const res = await undiciRequest(gw.url + '/api/generate', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', prompt: 'hi' }),
      dispatcher: gw.dispatcher,
      signal: ac.signal
    })
    for await (const _chunk of res.body) break
    ac.abort()
    await gw.fake.waitForAbort()
    release()
    await eventually(async () => {
      await gw.gateway.flushUsage()
      // one token frame reached the gateway before the hang-up: Ollama streams a token a frame, so it
      // counts 1 (a client cannot make a stream free by leaving before its closing line)
      expect(records("identity = 'quitter'")).toMatchObject([{ input_tokens: 0, output_tokens: 1, incomplete: 1 }])
    })
  })
})

describe('key rotation carries usage and quotas by key name', () => {
  it('the old key works until its grace ends, both count toward one budget, then the old one is refused', async () => {
    const admin = gw.gateway.auth.userAdmin
    const created = await admin.createKey({ name: 'rotating', role: 'user', expiresIn: '90d' })
    now += H
    const rotated = await admin.rotateKey(created.record.id, '1h')
    expect(rotated.record).toMatchObject({ name: 'rotating', role: 'user', expiresAt: now + 90 * DAY, status: 'active' })
    expect(rotated.previous).toMatchObject({ id: created.record.id, graceUntil: now + H, replacedBy: rotated.record.id, status: 'active' })
    const listed = await admin.listKeys()
    expect(listed.filter((k) => k.name === 'rotating').map((k) => k.id)).toEqual([created.record.id, rotated.record.id])

    expect((await generate(created.key)).status).toBe(200)
    await usedBecomes('rotating', COST)
    expect((await generate(rotated.key)).status).toBe(200)
    await usedBecomes('rotating', 2 * COST)
    const r = await generate(rotated.key)
    expect(r.status).toBe(429)
    expect(r.json).toEqual({ error: expect.stringContaining('(key rotating)') })

    now += H
    const old = await generate(created.key)
    expect(old.status).toBe(401)
    expect((await admin.listKeys()).find((k) => k.id === created.record.id)?.status).toBe('revoked')
    const ev = await eventually(() => {
      const e = auditLines().find((l) => l.event.action === 'key-rotated')
      expect(e).toBeDefined()
      return e as AuditLine & { gatehouse: { key?: { id?: string, name?: string } } }
    })
    expect(ev.event.outcome).toBe('success')
  })

  it('a key is rotated once; an unknown id is not found; a bad grace is refused', async () => {
    const admin = gw.gateway.auth.userAdmin
    const k = await admin.createKey({ name: 'once', role: 'user', expiresIn: null })
    const r = await admin.rotateKey(k.record.id, '0')
    expect(r.record.expiresAt).toBeNull()
    expect(r.previous.status).toBe('revoked')
    await expect(admin.rotateKey(k.record.id, null)).rejects.toMatchObject({ code: 'GH_ERR_CONFLICT' })
    await expect(admin.rotateKey('nope', null)).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
    await expect(admin.rotateKey(r.record.id, 'soon')).rejects.toMatchObject({ code: 'GH_ERR_BAD_REQUEST' })
  })
})

describe('retention and UTC periods', () => {
  it('the sweep deletes records older than usage.retentionDays only', async () => {
    const rec = { identity: 'old-bot', credential: 'api_key' as const, role: 'user', model: null, upstream: null,
      inputTokens: 1, outputTokens: 1, durationMs: 1, status: 200, incomplete: false }
    await gw.gateway.store.insertUsage([{ ...rec, at: now - 401 * DAY }, { ...rec, at: now - 399 * DAY }])
    await gw.gateway.sweepUsage()
    expect(records("identity = 'old-bot'").map((r) => r.at)).toEqual([now - 399 * DAY])
  })

  it('a day quota resets at UTC midnight; a month quota holds across days and resets on the 1st', async () => {
    now = Date.UTC(2026, 11, 31, 23, 59, 59)
    expect((await generate(keys['at-limit'] as string)).status).toBe(200)
    await usedBecomes('at-limit', COST)
    expect((await generate(keys['at-limit'] as string)).status).toBe(429)
    expect((await generate(keys.monthly as string)).status).toBe(200)
    await usedBecomes('monthly', COST, 'month')
    expect((await generate(keys.monthly as string)).status).toBe(200)
    await usedBecomes('monthly', 2 * COST, 'month')
    const refused = await generate(keys.monthly as string)
    expect(refused.status).toBe(429)
    expect(refused.json).toEqual({ error: 'token quota exceeded: 22 tokens per month (key monthly); resets at 2027-01-01T00:00:00Z' })
    expect(refused.headers['retry-after']).toBe('1')

    now += 1000 // 2027-01-01T00:00:00Z: a new day and a new month
    expect((await generate(keys['at-limit'] as string)).status).toBe(200)
    expect((await generate(keys.monthly as string)).status).toBe(200)
    await usedBecomes('monthly', COST, 'month')
  })
})
