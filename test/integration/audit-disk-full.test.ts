// Security: the audit log on a file system that fills up, through the real gateway. Nothing is
// served unaudited, the file never holds part of a line, every event records the status its client
// really got (503 when the flush failed, not the 200 Ollama sent), a stream whose end could not be
// audited is recorded with its tokens and the error once space is back, and the log verifies.
// Runs on a real 256 KiB tmpfs (as root; always in CI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { verifyAuditFiles } from '../../src/audit/index.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import type { AuditLine } from '../helpers/audit-lines.js'
import { canMountTmpfs, mountSmallFs, type SmallFs } from '../helpers/small-fs.js'

let fs: SmallFs
let gw: TestGateway
let logPath: string
/** request id → the status its client got */
const clientGot = new Map<string, number>()

async function until (ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function chat (): Promise<number> {
  const res = await request(gw.url + '/api/chat', { method: 'POST', headers: gw.auth, body: JSON.stringify({ model: 'llama3.2', messages: [], stream: false }), dispatcher: gw.dispatcher })
  await res.body.text()
  clientGot.set(String(res.headers['x-request-id']), res.statusCode)
  return res.statusCode
}

/** Requests until one is refused because its event could not be made durable. */
async function chatUntilRefused (): Promise<void> {
  for (let i = 0; i < 200; i++) if (await chat() === 503) return
  throw new Error('the audit log never ran out of space')
}

function events (): AuditLine[] {
  const text = readFileSync(logPath, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as AuditLine)
}

async function freeAndCheck (): Promise<AuditLine[]> {
  fs.free()
  await until(() => gw.gateway.audit.writable())
  expect(await chat()).toBe(200) // audited again, and everything before it is on disk
  const all = events()
  for (const e of all) {
    const id = e.http?.request.id
    if (id !== undefined && clientGot.has(id)) expect({ id, status: e.http?.response?.status_code }).toEqual({ id, status: clientGot.get(id) })
  }
  const result = await verifyAuditFiles([logPath], { chainKey: gw.gateway.secrets.auditChainKey, checkpointPublicKey: gw.gateway.secrets.auditCheckpoint.publicKey })
  expect(result.firstBad).toBeUndefined()
  expect(result.ok).toBe(true)
  return all
}

describe.skipIf(!canMountTmpfs)('audit log on a full disk (tmpfs)', () => {
  beforeAll(async () => {
    fs = mountSmallFs(256)
    logPath = join(fs.dir, 'audit.log')
    gw = await startTestGateway({ audit: { failClosed: true, sinks: [{ type: 'file', path: logPath, flushIntervalMs: 50 }] } })
  })
  afterAll(async () => {
    await gw?.close()
    fs?.unmount()
  })

  it('between requests: refused with 503 once full, the event says 503, no fragment, verifies after space is freed', async () => {
    expect(await chat()).toBe(200)
    fs.fill()
    await chatUntilRefused()
    expect(gw.gateway.audit.writable()).toBe(false)
    expect(await chat()).toBe(503) // refused at the door while the sink cannot write
    events() // only whole lines, even now
    const all = await freeAndCheck()
    const refused = all.filter((e) => e.event.action === 'model-request' && e.http?.response?.status_code === 503)
    expect(refused.length).toBe(1)
    expect(refused[0]?.event).toMatchObject({ outcome: 'failure', reason: 'audit-unavailable' })
    expect(all.filter((e) => e.event.action === 'model-request' && e.http?.response?.status_code === 200).length)
      .toBe([...clientGot.values()].filter((s) => s === 200).length)
  })

  it('mid-stream: the closing frame becomes an error, and the stream\'s event (status, tokens, the error) is written once space is back', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const tokens = ['one ', 'two ', 'three']
    gw.fake.script = { ...defaultScript(), tokens, promptTokens: 11, beforeChunk: (i) => (i === tokens.length ? held : Promise.resolve()) }
    const res = await request(gw.url + '/api/chat', { method: 'POST', headers: gw.auth, body: JSON.stringify({ model: 'llama3.2', messages: [] }), dispatcher: gw.dispatcher })
    const id = String(res.headers['x-request-id'])
    const it = res.body[Symbol.asyncIterator]()
    let text = String((await it.next()).value)
    fs.fill()
    gw.fake.script = { ...defaultScript() } // the requests that fill the last page are not held
    await chatUntilRefused()
    release()
    for (let r = await it.next(); !r.done; r = await it.next()) text += String(r.value)
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.some((l) => l.done === true)).toBe(false)
    expect(lines.at(-1)).toEqual({ error: 'audit log unavailable; request refused' })
    expect(lines.filter((l) => 'message' in l).length).toBe(tokens.length)

    const all = await freeAndCheck()
    const ev = all.find((e) => e.http?.request.id === id)
    expect(ev?.event).toMatchObject({ action: 'model-request', outcome: 'failure', reason: 'audit-unavailable' })
    expect(ev?.http?.response?.status_code).toBe(200) // the status line had gone out with the first frame
    expect(ev?.gen_ai?.usage).toEqual({ input_tokens: 11, output_tokens: tokens.length })
    expect(ev?.gatehouse.reason).toBe('audit-unavailable')
  })
})
