// `gatehouse compliance check --notify`: the report reaches a Slack-compatible webhook (a real HTTP
// receiver on 127.0.0.1) as {text, blocks} naming what fails per control; a receiver that refuses,
// errors or never answers gives exit 3 within the timeout; the URL (a secret) is never printed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { loadConfig } from '../../src/config/load.js'
import { createOpsCommands, EXIT_NOT_DELIVERED } from '../../src/cli/ops-commands.js'
import { createStore } from '../../src/store/index.js'
import { systemClock } from '../../src/clock.js'
import type { ParsedArgs } from '../../src/cli/types.js'
import type { WebhookMessage } from '../../src/ops/compliance-notify.js'
import { cli, tempConfig } from '../helpers/cli.js'
import { BIN } from '../helpers/process.js'
import { eventually } from '../helpers/eventually.js'

const SECRET_PATH = '/services/T000SECRET/B000SECRET/xoxSecretToken123'
let server: Server
let base: string
let received: Array<{ method: string, path: string, type: string | undefined, body: string }> = []
let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => { res.end('ok') }
let cfg: { dir: string, file: string }

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', type: req.headers['content-type'], body })
      respond(req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  cfg = tempConfig({ listen: { host: '127.0.0.1' }, tls: { enabled: false } })
})
afterEach(() => { received = []; respond = (_req, res) => { res.end('ok') } })
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  rmSync(cfg.dir, { recursive: true, force: true })
})

const noSecret = (...texts: string[]) => { for (const t of texts) { expect(t).not.toContain('xoxSecretToken123'); expect(t).not.toContain('T000SECRET') } }

function commands (env: NodeJS.ProcessEnv, notifyTimeoutMs = 5000, file = cfg.file) {
  const config = loadConfig(file)
  return {
    config,
    run: async (extra: Partial<ParsedArgs> = {}) => {
      const out: string[] = []
      const err: string[] = []
      const handler = createOpsCommands({ openStore: (c) => createStore(c.store.url), clock: systemClock, env, notifyTimeoutMs })['compliance check']
      if (!handler) throw new Error('no handler')
      const code = await handler(config, { command: ['compliance', 'check'], json: false, passwordStdin: false, ...extra }, { out: (t) => { out.push(t) }, err: (t) => { err.push(t) }, readStdin: async () => '' })
      return { code, out: out.join('\n'), err: err.join('\n') }
    }
  }
}

describe('compliance check --notify', () => {
  it('posts {text, blocks} to the URL from --notify: the verdict, and per control each failing or warning check', async () => {
    const r = await cli(['compliance', 'check', '--config', cfg.file, '--notify', base + SECRET_PATH])
    expect(r.code).toBe(1) // TLS is off in this config: not compliant, but delivered
    expect(received).toHaveLength(1)
    const got = received[0]
    expect(got).toMatchObject({ method: 'POST', path: SECRET_PATH, type: 'application/json' })
    const msg = JSON.parse(got?.body ?? '') as WebhookMessage
    expect(msg.text).toMatch(/^Gatehouse compliance NOT COMPLIANT: \d+ fail, \d+ warn, \d+ pass \(config sha256 [0-9a-f]{12}, /)
    const sections = msg.blocks.map((b) => b.text.text)
    expect(msg.blocks.every((b) => b.type === 'section' && b.text.type === 'mrkdwn')).toBe(true)
    const cc67 = sections.find((t) => t.startsWith('*CC6.7*'))
    expect(cc67).toContain('• FAIL `tls-enabled`')
    expect(sections.find((t) => t.startsWith('*CC6.8*'))).toContain('• FAIL `dependency-scan`')
    expect(sections.join('\n')).not.toContain('PASS')
    expect(r.err).toContain('compliance report delivered to the webhook (HTTP 200)')
    noSecret(r.out, r.err)
  })

  it('without --notify, takes the URL from the variable compliance.notifyUrlEnv names (GATEHOUSE_COMPLIANCE_WEBHOOK by default)', async () => {
    const byDefault = await commands({ GATEHOUSE_COMPLIANCE_WEBHOOK: base + SECRET_PATH }).run()
    expect(byDefault.code).toBe(1)
    expect(received.map((x) => x.path)).toEqual([SECRET_PATH])
    const other = tempConfig({ listen: { host: '127.0.0.1' }, tls: { enabled: false }, compliance: { notifyUrlEnv: 'MY_WEBHOOK' } })
    try {
      received = []
      // the config names another variable: the default one is not read
      expect((await commands({ GATEHOUSE_COMPLIANCE_WEBHOOK: base + '/default' }, 5000, other.file).run()).code).toBe(1)
      expect(received).toEqual([])
      expect((await commands({ MY_WEBHOOK: base + '/mine' }, 5000, other.file).run()).code).toBe(1)
      expect(received.map((x) => x.path)).toEqual(['/mine'])
    } finally { rmSync(other.dir, { recursive: true, force: true }) }
  })

  it('a receiver that answers 500 is not a delivery: exit 3, the status named, the URL not', async () => {
    respond = (_req, res) => { res.statusCode = 500; res.end('no') }
    const r = await commands({}).run({ notify: base + SECRET_PATH })
    expect(r.code).toBe(EXIT_NOT_DELIVERED)
    expect(EXIT_NOT_DELIVERED).toBe(3)
    expect(r.err).toContain('NOT delivered to the webhook: HTTP 500')
    noSecret(r.out, r.err)
  })

  it('an unreachable receiver: exit 3 naming the connection error, the report still printed', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as { port: number }).port
    await new Promise((resolve) => closed.close(resolve))
    const r = await commands({}).run({ notify: `http://127.0.0.1:${port}${SECRET_PATH}` })
    expect(r.code).toBe(3)
    expect(r.err).toContain('NOT delivered to the webhook: ECONNREFUSED')
    expect(r.out).toMatch(/^NOT COMPLIANT: /m)
    noSecret(r.out, r.err)
  })

  it('a receiver that never answers does not hang the command: exit 3 after the timeout', async () => {
    respond = () => { /* holds the request open */ }
    const started = Date.now()
    const r = await commands({}, 400).run({ notify: base + SECRET_PATH })
    expect(r.code).toBe(3)
    expect(r.err).toContain('no answer within 400 ms')
    expect(Date.now() - started).toBeLessThan(8000)
    await eventually(() => { expect(received).toHaveLength(1) })
  })

  it('a URL that is not http(s) is bad usage (exit 2) and is not echoed', async () => {
    const r = await cli(['compliance', 'check', '--config', cfg.file, '--notify', 'ftp://hooks.example/xoxSecretToken123'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('the webhook URL (--notify) is not an http(s) URL')
    expect(received).toEqual([])
    noSecret(r.out, r.err)
  })

  it('the real binary with the URL in GATEHOUSE_COMPLIANCE_WEBHOOK posts once and prints no part of it', async () => {
    const r = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [BIN, 'compliance', 'check', '--json', '--config', cfg.file],
        { env: { ...process.env, GATEHOUSE_COMPLIANCE_WEBHOOK: base + SECRET_PATH }, timeout: 30_000 },
        (_err, stdout, stderr) => { resolve({ code: child.exitCode, stdout, stderr }) })
    })
    expect(r.code).toBe(1)
    expect(received).toHaveLength(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ compliant: false })
    noSecret(r.stdout, r.stderr)
  })
})
