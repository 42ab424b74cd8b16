// SIGHUP reloads without downtime: new connections get the replaced certificate while a stream
// opened before completes; a config that fails validation is refused (same messages, on stderr)
// and the running one keeps serving; each accepted reload is a config-loaded audit event.
// SIGTERM at any point of the start (handlers come first) drains and exits 0.
import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { BIN, startServe } from '../helpers/process.js'
import { eventually } from '../helpers/eventually.js'
import { defaultScript, startFakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig, cli } from '../helpers/cli.js'
import { copyTestCerts, makeTestCerts } from '../helpers/tls.js'

/** The fingerprint of the certificate a fresh TLS connection to `url` is shown. */
function servedFingerprint (url: string): Promise<string> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256)
      s.destroy()
    })
    s.on('error', reject)
  })
}

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256

describe('SIGHUP', () => {
  it('new connections see the replaced certificate while an open stream completes; a bad config is refused', async () => {
    const fake = await startFakeOllama()
    const { dir } = tempConfig()
    const certs = copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    mkdirSync(join(dir, 'config'))
    const file = join(dir, 'config', 'gatehouse.yaml')
    const good = { listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] } }
    writeFileSync(file, stringify(good))
    const key = (JSON.parse((await cli(['key', 'create', '--name', 'svc', '--role', 'user', '--json', '--config', file])).out) as { key: string }).key
    const fresh = makeTestCerts()
    const served = await startServe(file)
    const agent = new Agent({ connect: { ca: readFileSync(certs.caCert) } })
    try {
      expect(await servedFingerprint(served.url)).toBe(fingerprintOf(certs.cert))
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => { release = resolve })
      fake.script = { ...defaultScript(), tokens: ['still ', 'here'], beforeChunk: (i) => (i === 1 ? held : Promise.resolve()) }
      const res = await request(served.url + '/api/chat', { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'llama3.2', messages: [] }) })
      const reader = res.body[Symbol.asyncIterator]()
      const first = await reader.next()
      expect(String(first.value)).toContain('still ')

      copyFileSync(fresh.cert, certs.cert)
      copyFileSync(fresh.key, certs.key)
      served.child.kill('SIGHUP')
      await eventually(async () => {
        expect(await servedFingerprint(served.url)).toBe(fingerprintOf(fresh.cert))
        expect(served.stderr()).toMatch(/SIGHUP: configuration reloaded \(sha256 [0-9a-f]{12}\); TLS certificate and key re-read\n/)
      })

      release()
      let rest = ''
      for (let r = await reader.next(); !r.done; r = await reader.next()) rest += String(r.value)
      const lines = (String(first.value) + rest).trim().split('\n').map((l) => JSON.parse(l) as { done: boolean })
      expect(lines.at(-1)?.done).toBe(true)

      // a config that fails validation: refused with the start-up messages, the old one keeps serving
      writeFileSync(file, stringify({ ...good, auth: { lockuot: {} }, listen: { host: '127.0.0.1', port: 'eighty' } }))
      served.child.kill('SIGHUP')
      // the refusal and its problem list may reach stderr in separate writes: wait for both
      await eventually(() => {
        expect(served.stderr()).toContain('SIGHUP: invalid configuration')
        expect(served.stderr()).toMatch(/\n {2}listen\.port: /)
      })
      const health = await request(served.url + '/healthz', { dispatcher: new Agent({ connect: { ca: fresh.ca } }) })
      expect(health.statusCode).toBe(200)
      await health.body.dump()

      // a change that needs a restart is named
      writeFileSync(file, stringify({ ...good, rateLimit: { requestsPerMinute: 7 } }))
      served.child.kill('SIGHUP')
      await eventually(() => { expect(served.stderr()).toMatch(/changes to rateLimit\.requestsPerMinute take effect at the next restart/) })

      // the file sink writes the reload's event once the event loop is free, maybe after the message
      await eventually(() => {
        const events = readFileSync(join(dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
          .map((l) => JSON.parse(l) as { event: { action: string } })
          .filter((e) => e.event.action === 'config-loaded')
        expect(events).toHaveLength(3)
      })
      served.child.kill('SIGTERM')
      expect(await served.exit).toBe(0)
    } finally {
      served.child.kill('SIGKILL')
      await agent.close()
      await fake.close()
    }
  })
})

describe('signals during start', () => {
  it('a SIGTERM before the gateway listens is a clean stop (exit 0), not death by signal', async () => {
    const fake = await startFakeOllama()
    const { dir } = tempConfig()
    copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    mkdirSync(join(dir, 'config'))
    const file = join(dir, 'config', 'gatehouse.yaml')
    writeFileSync(file, stringify({ listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] } }))
    const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    const exit = new Promise<{ code: number | null, signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
    try {
      // the first line on stderr is the first-start bootstrap notice, written before listening
      child.stderr.once('data', () => child.kill('SIGTERM'))
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      child.stdout.resume()
      expect(await exit).toEqual({ code: 0, signal: null })
      expect(err).toContain('SIGTERM received, draining')
    } finally {
      child.kill('SIGKILL')
      await fake.close()
    }
  })
})
