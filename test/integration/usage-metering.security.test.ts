// A client cannot get model tokens unmetered: however it spells `stream_options` (Go reads keys
// case-insensitively, the last duplicate wins, null resets), a streamed /v1 request reaches Ollama
// asking for usage and is counted; and usage records still buffered survive a clean shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { createStore } from '../../src/store/index.js'
import { eventually } from '../helpers/eventually.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({}, { usageFlushMs: 60_000 }) }, 30_000)
afterAll(async () => { await gw?.close() })

const spellings = [
  '"stream_options":{"include_usage":true},"STREAM_OPTIONS":null',
  '"stream_options":{"include_usage":true},"Stream_Options":{"Include_Usage":false}',
  '"stream_options":{"include_usage":false}',
  '"stream_options":null',
  '"ſtream_options":{"include_usage":false}'
]

describe('streamed /v1 requests are always counted', () => {
  it.each(spellings)('%s', async (spelling) => {
    const name = `spell-${spellings.indexOf(spelling)}`
    const key = await gw.createKey('user', name)
    const r = await call(gw, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,${spelling}}`
    })
    expect(r.status).toBe(200)
    // what Ollama received asks for usage, once, in the only spelling left
    const sent = gw.fake.received.at(-1)?.body.toString('utf8') ?? ''
    expect(sent.match(/stream_options/gi)).toHaveLength(1)
    expect(gw.fake.received.at(-1)?.json?.stream_options).toEqual({ include_usage: true })
    expect(r.text).not.toContain('"usage"')
    // the client can read the stream's end before the gateway's onResponse records its usage
    await eventually(async () => {
      await gw.gateway.flushUsage()
      expect(await gw.gateway.store.usageOf('api_key', name, 0)).toMatchObject({ requests: 1, inputTokens: 7, outputTokens: 4 })
    })
  })
})

describe('a clean shutdown', () => {
  it('writes the usage records still buffered before the store closes', async () => {
    const other = await startTestGateway({}, { usageFlushMs: 60_000 })
    const key = await other.createKey('user', 'last-words')
    const r = await call(other, 'POST', '/api/generate', {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"model":"llama3.2","prompt":"hi","stream":false}'
    })
    expect(r.status).toBe(200)
    await other.close()
    const store = await createStore(`sqlite:${join(other.dir, 'data', 'gatehouse.db')}`)
    try {
      expect(await store.usageOf('api_key', 'last-words', 0)).toMatchObject({ requests: 1, inputTokens: 7, outputTokens: 4 })
    } finally { await store.close() }
  })
})
