// What the audit alerts watch, through a real outage: while the only file sink cannot write,
// /metrics (not behind the audit gate) shows the sink down and counts every fail-closed 503; once
// the file is back the sink reads up again and the counter stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'

const json = { 'content-type': 'application/json' }
const chatBody = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false })
let gw: TestGateway
let monitor = ''

beforeAll(async () => {
  gw = await startTestGateway()
  monitor = await gw.createKey('monitor')
})
afterAll(async () => { await gw?.close() })

async function until (what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function scrape (): Promise<{ sinkUp: string | undefined, refusals: string | undefined }> {
  const r = await call(gw, 'GET', '/metrics', { headers: { authorization: `Bearer ${monitor}` } })
  expect(r.status).toBe(200)
  return {
    sinkUp: /^gatehouse_audit_sink_up\{index="0",type="file"\} (\d+)$/m.exec(r.text)?.[1],
    refusals: /^gatehouse_audit_fail_closed_refusals_total (\d+)$/m.exec(r.text)?.[1]
  }
}

describe('audit outage as /metrics shows it', () => {
  it('sink down and each 503 counted while the log cannot be written; sink up and no more refusals after', async () => {
    expect(await scrape()).toEqual({ sinkUp: '1', refusals: '0' })
    const dir = join(gw.dir, 'logs')
    renameSync(dir, dir + '.moved')
    writeFileSync(dir, 'not a directory') // unopenable even for root
    try {
      await until('the audit sink to report unwritable', () => !gw.gateway.audit.writable())
      expect((await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })).status).toBe(503)
      expect((await call(gw, 'GET', '/api/tags')).status).toBe(503)
      const login = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: json, body: JSON.stringify({ username: 'x', password: 'y' }) })
      expect(login.status).toBe(503)
      const during = await scrape()
      expect(during.sinkUp).toBe('0')
      expect(during.refusals).toBe('3')
    } finally {
      rmSync(dir)
      renameSync(dir + '.moved', dir)
    }
    await until('the audit sink to recover', () => gw.gateway.audit.writable())
    const before = (await scrape()).refusals
    expect((await call(gw, 'POST', '/api/chat', { headers: json, body: chatBody })).status).toBe(200)
    expect(await scrape()).toEqual({ sinkUp: '1', refusals: before })
  })
})
