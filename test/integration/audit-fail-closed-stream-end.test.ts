// Security (failClosed): a stream whose audit event cannot be written never ends cleanly. Its
// closing line is held until the event is on disk; if the flush fails the client gets an error line
// instead of `"done":true` (or `data: [DONE]`), so no client mistakes an unaudited reply for a whole one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { eventually } from '../helpers/eventually.js'
import type { AuditLine } from '../helpers/audit-lines.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ audit: { failClosed: true } }) })
afterAll(async () => { await gw?.close() })

let lastId = ''

async function streamWithSinkBreakingBeforeTheEnd (path: string, body: Record<string, unknown>): Promise<string> {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const tokens = ['one ', 'two']
  // hold the closing frame (the last upstream write) until the sink is broken
  gw.fake.script = { ...defaultScript(), tokens, beforeChunk: (i) => (i === tokens.length ? held : Promise.resolve()) }
  const res = await request(gw.url + path, { method: 'POST', headers: gw.auth, body: JSON.stringify(body), dispatcher: gw.dispatcher })
  lastId = String(res.headers['x-request-id'])
  const it = res.body[Symbol.asyncIterator]()
  let text = String((await it.next()).value)
  const dir = join(gw.dir, 'logs')
  renameSync(dir, dir + '.moved')
  writeFileSync(dir, 'not a directory')
  try {
    await eventually(() => expect(gw.gateway.audit.writable()).toBe(false))
    release()
    for (let r = await it.next(); !r.done; r = await it.next()) text += String(r.value)
  } finally {
    rmSync(dir)
    renameSync(dir + '.moved', dir)
    await eventually(() => expect(gw.gateway.audit.writable()).toBe(true))
  }
  return text
}

describe('fail-closed stream endings', () => {
  it('NDJSON: no "done":true reaches the client when the audit flush fails; an error line ends it', async () => {
    const text = await streamWithSinkBreakingBeforeTheEnd('/api/chat', { model: 'llama3.2', messages: [] })
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.some((l) => l.done === true)).toBe(false)
    expect(lines.at(-1)).toEqual({ error: 'audit log unavailable; request refused' })
    expect(lines.filter((l) => 'message' in l).length).toBeGreaterThanOrEqual(1)
  })
  it('SSE: no data: [DONE] when the audit flush fails; an error event ends it', async () => {
    const text = await streamWithSinkBreakingBeforeTheEnd('/v1/chat/completions', { model: 'llama3.2', stream: true, messages: [] })
    expect(text).not.toContain('[DONE]')
    expect(text.trim().split('\n\n').at(-1)).toMatch(/^data: \{"error":\{"message":"audit log unavailable; request refused"/)
  })
  it('the cut stream\'s event is written once the sink is back, and says what the client got', async () => {
    await streamWithSinkBreakingBeforeTheEnd('/api/generate', { model: 'llama3.2', prompt: 'x' })
    await gw.gateway.audit.flush()
    const events = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as AuditLine)
    const ev = events.find((e) => e.http?.request.id === lastId)
    expect(ev?.event).toMatchObject({ action: 'model-request', outcome: 'failure', reason: 'audit-unavailable' })
    expect(ev?.http?.response?.status_code).toBe(200)
    expect(ev?.gen_ai?.usage).toEqual({ input_tokens: 7, output_tokens: 2 })
  })
  it('with the sink healthy the closing line arrives as usual', async () => {
    gw.fake.script = defaultScript()
    const res = await request(gw.url + '/api/generate', { method: 'POST', headers: gw.auth, body: JSON.stringify({ model: 'llama3.2', prompt: 'x' }), dispatcher: gw.dispatcher })
    const lines = (await res.body.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.at(-1)).toMatchObject({ done: true })
  })
})
