// The syslog sink against a real rsyslog (Debian's package, installed by .ci/rsyslog.sh): events sent
// over TCP and over TLS (gtls driver) are written by rsyslog to a file, then read back field for field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manualClock } from '../helpers/clock.js'
import { eventually } from '../helpers/eventually.js'
import { createAuditLog, verifyAuditFiles, type AuditInput, type AuditLog } from '../../src/audit/index.js'
import { generateAuditKeys } from '../helpers/audit-keys.js'
import { escapeSdValue } from '../../src/audit/sinks/syslog-format.js'
import type { GatehouseConfig } from '../../src/config/schema.js'

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p))
const GTLS = ['/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/rsyslog/lmnsd_gtls.so'].some((p) => existsSync(p))
const available = RSYSLOGD !== undefined && GTLS
if (!available) {
  if (process.env.CI === 'true') throw new Error('rsyslogd with the gtls driver is required in CI: run .ci/rsyslog.sh')
  console.warn('SKIPPED audit-syslog-rsyslog: rsyslogd or rsyslog-gnutls not installed (run .ci/rsyslog.sh)')
}

const dir = mkdtempSync(join(tmpdir(), 'gh-rsyslog-'))
const keys = generateAuditKeys()
const daemons: ChildProcess[] = []

async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

async function waitListening (port: number, child: ChildProcess): Promise<void> {
  await eventually(async () => {
    expect(child.exitCode, 'rsyslogd exited').toBeNull()
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve() })
      s.on('error', (err) => reject(new Error(`rsyslogd is not listening: ${err.message}`)))
    })
  }, { timeoutMs: 10_000, intervalMs: 50 })
}

const TEMPLATE = `template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}`

/** Starts rsyslogd in the foreground with its own config, on a free port; returns where it writes. */
async function startRsyslog (name: string, tls: boolean): Promise<{ port: number, out: string }> {
  const work = join(dir, name)
  execFileSync('mkdir', ['-p', work])
  const port = await freePort()
  const out = join(work, 'received.jsonl')
  const tlsGlobal = tls
    ? `global(defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${dir}/ca.pem" defaultNetstreamDriverCertFile="${dir}/server.pem" defaultNetstreamDriverKeyFile="${dir}/server.key")\n`
    : ''
  const tlsModule = tls ? ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"' : ''
  const conf = `global(workDirectory="${work}" maxMessageSize="64k")
${tlsGlobal}module(load="imtcp"${tlsModule})
input(type="imtcp" port="${port}" address="127.0.0.1" supportOctetCountedFraming="on")
${TEMPLATE}
action(type="omfile" file="${out}" template="fields")
`
  writeFileSync(join(work, 'rsyslog.conf'), conf)
  const child = spawn(RSYSLOGD as string, ['-n', '-f', join(work, 'rsyslog.conf'), '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
  child.stdout?.on('data', (c: Buffer) => { stderr += c.toString() })
  daemons.push(child)
  try {
    await waitListening(port, child)
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err })
  }
  return { port, out }
}

function makeCerts () {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=gatehouse test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  ossl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n')
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext')
  // a second CA the server's certificate does not chain to
  ossl('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=someone else',
    '-addext', 'basicConstraints=critical,CA:TRUE')
}

const NASTY = 'eve"] [forged@1 user="root"]\r\n<13>1 2026-01-01T00:00:00Z host app - - - injected \\'
const INPUTS: AuditInput[] = [
  { action: 'config-loaded', outcome: 'success', config: { hash: 'c'.repeat(64) } },
  { action: 'login', outcome: 'failure', userName: NASTY, sourceIp: '203.0.113.9', requestId: 'req-1', reason: 'bad_password' },
  { action: 'mfa-verify', outcome: 'success', userName: 'zoë', sourceIp: '2001:db8::7', requestId: 'req-2' },
  {
    action: 'model-request',
    outcome: 'success',
    userName: 'bob',
    sourceIp: '198.51.100.4',
    requestId: 'req-3',
    request: {
      method: 'POST', path: '/api/chat', status: 200, durationNs: 987_654_321n, model: 'llama3.2:latest', inputTokens: 21,
      outputTokens: 144, decision: 'allow', credential: 'api_key', masked: { email: 2, phone: 1 }
    }
  },
  { action: 'role-changed', outcome: 'success', userName: 'admin', target: { userName: 'bob', role: 'model-loader' } },
  { action: 'account-locked', outcome: 'success', userName: 'mallory', reason: 'locked' }
]

const receivedBy = (out: string): Array<Record<string, string>> =>
  existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []

async function sendAndReceive (url: string, ca: string | null, out: string, label: string) {
  const file = join(dir, `${label}.audit.log`)
  const config: GatehouseConfig['audit'] = {
    failClosed: true,
    sinks: [
      { type: 'file', path: file, maxBytes: 104857600, flushIntervalMs: 100 },
      { type: 'syslog', url, ca, queueSize: 1000, appName: 'gatehouse' }
    ],
    checkpoint: { everyEvents: 1000, everySeconds: 60 },
    replicaId: null, retentionDays: null
  }
  const log: AuditLog = await createAuditLog({
    config, chainKey: keys.chainKey, checkpointKey: keys.checkpointKey, replicaId: `gw-${label}`,
    clock: manualClock(Date.UTC(2026, 10, 26, 9, 30, 0, 125)), hostName: 'gw-test'
  })
  await eventually(() => {
    expect(log.stats().sinkErrors).toBe(0)
    expect(log.sinks().map((s) => s.writable)).toEqual([true, true])
  }, { timeoutMs: 10_000 })
  for (const input of INPUTS) log.emit(input)
  await log.flush()
  await log.close()
  const sent = readFileSync(file, 'utf8').trim().split('\n')
  const received = await eventually(() => {
    const got = receivedBy(out)
    expect(got.length).toBeGreaterThanOrEqual(sent.length)
    return got
  }, { timeoutMs: 10_000, intervalMs: 50 })
  return { sent, received, file }
}

function expectFieldForField (sent: string[], received: Array<Record<string, string>>) {
  // as many records as events: no user string split a message or forged one
  expect(received).toHaveLength(sent.length)
  received.forEach((r, i) => {
    const ev = JSON.parse(sent[i] as string)
    expect(r.msg).toBe(sent[i])
    expect(JSON.parse(r.msg as string)).toEqual(ev)
    expect(r.msgid).toBe(ev.event.action)
    expect(r.hostname).toBe('gw-test')
    expect(r.app).toBe('gatehouse')
    expect(r.procid).toBe(String(process.pid))
    expect(r.timestamp).toBe(ev['@timestamp'])
    const severity = ev.event.action === 'account-locked' ? 4 : ev.event.outcome === 'failure' ? 5 : 6
    expect(r.pri).toBe(String(10 * 8 + severity))
    const c = ev.gatehouse.chain
    const params = [`action="${ev.event.action}"`, `outcome="${ev.event.outcome}"`, `replica="${c.replica}"`, `seq="${c.seq}"`, `hash="${c.hash}"`]
    if (ev.user?.name !== undefined) params.push(`user="${escapeSdValue(ev.user.name)}"`)
    if (ev.source?.ip !== undefined) params.push(`src="${ev.source.ip}"`)
    if (ev.http?.request?.id !== undefined) params.push(`reqid="${ev.http.request.id}"`)
    expect(r.sd).toBe(`[gatehouse@32473 ${params.join(' ')}]`)
  })
  const login = JSON.parse(received[1]?.msg as string)
  expect(login.user.name).toBe(NASTY)
}

async function verifyReceived (received: Array<Record<string, string>>, label: string) {
  const copy = join(dir, `${label}.from-rsyslog.log`)
  writeFileSync(copy, received.map((r) => r.msg + '\n').join(''))
  return verifyAuditFiles([copy], { chainKey: keys.chainKey, checkpointPublicKey: keys.checkpointPublicKey })
}

describe.runIf(available)('audit events through a real rsyslog', () => {
  beforeAll(() => makeCerts())
  afterAll(async () => {
    await Promise.all(daemons.map((d) => new Promise<void>((resolve) => {
      if (d.exitCode !== null) return resolve()
      d.once('exit', () => resolve())
      d.kill('SIGTERM')
      setTimeout(() => { d.kill('SIGKILL') }, 3000).unref()
    })))
    rmSync(dir, { recursive: true, force: true })
  })

  it('over TCP with octet-counted framing, every field arrives intact', async () => {
    const { port, out } = await startRsyslog('tcp', false)
    const { sent, received } = await sendAndReceive(`tcp://127.0.0.1:${port}`, null, out, 'tcp')
    expectFieldForField(sent, received)
    expect(await verifyReceived(received, 'tcp')).toMatchObject({ ok: true, events: sent.length })
  })

  it('over TLS (gtls) trusting the test CA, every field arrives intact', async () => {
    const { port, out } = await startRsyslog('tls', true)
    const { sent, received } = await sendAndReceive(`tls://127.0.0.1:${port}`, join(dir, 'ca.pem'), out, 'tls')
    expectFieldForField(sent, received)
    expect(await verifyReceived(received, 'tls')).toMatchObject({ ok: true, events: sent.length })
  })

  it('does not send to a TLS server whose certificate does not chain to the configured CA', async () => {
    const { port, out } = await startRsyslog('tls-wrong-ca', true)
    const log = await createAuditLog({
      config: {
        failClosed: true,
        sinks: [{ type: 'syslog', url: `tls://127.0.0.1:${port}`, ca: join(dir, 'other-ca.pem'), queueSize: 10, appName: 'gatehouse' }],
        checkpoint: { everyEvents: 1000, everySeconds: 60 },
        replicaId: null, retentionDays: null
      },
      chainKey: keys.chainKey, checkpointKey: keys.checkpointKey, replicaId: 'gw-x', clock: manualClock(),
      tuning: { syslogFlushTimeoutMs: 200 }
    })
    log.emit({ action: 'login', outcome: 'success', userName: 'nobody-should-see-this' })
    await eventually(() => expect(log.stats().sinkErrors).toBeGreaterThan(0))
    expect(log.writable()).toBe(false)
    await log.close()
    // a marker sent afterwards by a sink that trusts the right CA: once rsyslog has written it, it has
    // written whatever the refused sink could have sent before
    const { received } = await sendAndReceive(`tls://127.0.0.1:${port}`, join(dir, 'ca.pem'), out, 'tls-wrong-ca-marker')
    expect(received.length).toBeGreaterThan(0)
    expect(readFileSync(out, 'utf8')).not.toContain('nobody-should-see-this')
  })
})
