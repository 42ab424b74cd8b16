// `gatehouse serve` on a fresh folder: creates data/ (0700, keys 0600), a development certificate
// (loudly), a bootstrap admin whose one-time password is printed once to stderr and is never
// stored or logged in clear; SIGTERM drains, writes the final checkpoint and exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { startServe, type Served } from '../helpers/process.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig } from '../helpers/cli.js'

let served: Served
let fake: FakeOllama
let dir: string
let agent: Agent

beforeAll(async () => {
  fake = await startFakeOllama()
  const cfg = tempConfig()
  dir = cfg.dir
  mkdirSync(join(dir, 'config'))
  const file = join(dir, 'config', 'gatehouse.yaml')
  writeFileSync(file, stringify({ listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] } }))
  served = await startServe(file)
  agent = new Agent({ connect: { ca: readFileSync(join(dir, 'certs', 'ca.crt')) } })
})
afterAll(async () => {
  served.child.kill('SIGKILL')
  await agent.close()
  await fake.close()
})

describe('first start', () => {
  it('generates a development certificate and says so loudly', () => {
    expect(served.stderr()).toMatch(/WARNING: no TLS certificate/)
    expect(statSync(join(dir, 'certs', 'server.key')).mode & 0o777).toBe(0o600)
  })
  it('creates data/ with mode 0700 and every generated key with mode 0600', () => {
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700)
    const files = readdirSync(join(dir, 'data'))
    expect(files).toEqual(expect.arrayContaining(['jwt-signing-key.pem', 'totp-encryption.key', 'masking-hmac.key', 'audit-chain-hmac.key', 'audit-checkpoint-key.pem', 'gatehouse.db']))
    for (const f of files) expect(statSync(join(dir, 'data', f)).mode & 0o077, f).toBe(0)
  })
  it('prints the bootstrap admin one-time password once, and stores/logs it nowhere in clear', async () => {
    const pw = /password[^:]*:\s*(\S{16,})/i.exec(served.stderr())?.[1]
    expect(pw).toBeDefined()
    expect(served.stderr().split(pw as string).length - 1).toBe(1)
    const res = await request(served.url + '/auth/login', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: pw }) })
    // a one-time password opens a session that can only choose a new password
    expect(await res.body.json()).toMatchObject({ status: 'ok', password_change_required: true })
    for (const f of readdirSync(join(dir, 'data'))) expect(readFileSync(join(dir, 'data', f)).includes(Buffer.from(pw as string)), f).toBe(false)
    expect(readFileSync(join(dir, 'logs', 'audit.log')).includes(Buffer.from(pw as string))).toBe(false)
  })
  it('serves /healthz and /readyz over TLS', async () => {
    const h = await request(served.url + '/healthz', { dispatcher: agent })
    expect(h.statusCode).toBe(200)
    await h.body.dump()
    const r = await request(served.url + '/readyz', { dispatcher: agent })
    expect(r.statusCode).toBe(200)
    await r.body.dump()
  })
  it('SIGTERM drains, writes the final checkpoint, and exits 0; the log verifies', async () => {
    served.child.kill('SIGTERM')
    expect(await served.exit).toBe(0)
    const cp = readFileSync(join(dir, 'logs', 'audit.log.checkpoints'), 'utf8').trim().split('\n')
    const events = readFileSync(join(dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
    const lastSeq = (JSON.parse(events.at(-1) as string) as { gatehouse: { chain: { seq: number } } }).gatehouse.chain.seq
    expect(JSON.stringify(JSON.parse(cp.at(-1) as string))).toContain(`"seq":${lastSeq}`)
  })
})
