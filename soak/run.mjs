#!/usr/bin/env node
// The soak: the built gateway as a child process in front of three fake Ollama hosts, on a private
// PostgreSQL (store.url) and Redis (redis.url) of its own, auditing to a file on a tmpfs of its own
// and to a syslog receiver of its own; N concurrent streams plus small requests (API keys and
// sessions, replies with PII to mask) for D minutes while faults are injected one after the other
// (faults.mjs: an Ollama host killed, PostgreSQL and Redis restarted, syslog stopped, the audit disk
// full); at the end SIGTERM with N streams open. Then a verdict: every reply has exactly one audit
// event recording the status its client got (counted refusals accounted for), every stream ended
// with its closing or error line, the chain verifies, the drain finished in time with a final
// checkpoint, what each fault did and how fast the gateway recovered, RSS flat in the second half,
// event-loop delay p99, file descriptors before/after. Loopback only; bounded in time and count;
// needs root (the tmpfs) and PostgreSQL and Redis server binaries. Writes soak/results/latest.{json,md}.
//
//   npm run build && npm run soak                              # full: 10 minutes, 1,000 streams
//   npm run soak -- --minutes 2 --streams 200                  # short (also SOAK_MINUTES, SOAK_STREAMS)
//
// The gateway runs with load shedding off, as by default; SOAK_SHED_MS=40 sets
// limits.maxEventLoopDelayMs (its final phase then counts the streams shed at opening as not
// ended). SOAK_GATEWAY_NODE_ARGS passes flags to the gateway's node (e.g. --trace-gc, whose lines
// land in the working folder's gateway.log, kept with --keep).
import { execFile, execFileSync, spawn } from 'node:child_process'
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { machineCpuTicks, tree } from '../bench/lib/proc.js'
import { createFakeOllama } from './fake-ollama.mjs'
import { faultPlan, observe, runFaults } from './faults.mjs'
import { freePort, mountAuditFs, soakPrerequisitesMissing, startPostgres, startRedis } from './private-servers.mjs'
import { renderMarkdown } from './report.mjs'
import { createSyslogReceiver } from './syslog-receiver.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'gatehouse.js')
const { values } = parseArgs({
  options: {
    minutes: { type: 'string' }, streams: { type: 'string' }, small: { type: 'string' },
    out: { type: 'string' }, keep: { type: 'boolean' }
  }
})
const minutes = Number(values.minutes ?? process.env.SOAK_MINUTES ?? 10)
const streams = Number(values.streams ?? process.env.SOAK_STREAMS ?? 1000)
const small = Number(values.small ?? process.env.SOAK_SMALL ?? Math.max(10, Math.round(streams / 20)))
const outDir = values.out ?? join(ROOT, 'soak', 'results')
if (!(minutes > 0 && minutes <= 60) || !(Number.isInteger(streams) && streams >= 1 && streams <= 5000) || !(small >= 1 && small <= 500)) {
  console.error('soak: --minutes must be in (0, 60], --streams in [1, 5000], --small in [1, 500]')
  process.exit(2)
}
const missing = soakPrerequisitesMissing()
if (missing) {
  console.error(`soak: cannot run its own servers and audit file system here: needs ${missing}`)
  process.exit(2)
}
if (!existsSync(join(ROOT, 'dist', 'errors.js'))) {
  console.error('soak: run `npm run build` first (the soak runs the built gateway)')
  process.exit(2)
}
const { errors: gatehouseErrors } = await import('../dist/errors.js')
const durationMs = Math.round(minutes * 60_000)
const SAMPLE_MS = 10_000
/** limits.maxEventLoopDelayMs: the gateway sheds new requests while its event loop is behind by more than this */
const SHED_MS = Number(process.env.SOAK_SHED_MS ?? 0)
if (!(Number.isInteger(SHED_MS) && SHED_MS >= 0 && SHED_MS <= 10_000)) {
  console.error('soak: SOAK_SHED_MS must be a whole number of ms in [0, 10000]')
  process.exit(2)
}
/** the drain deadline of `gatehouse serve` (gateway.shutdown) */
const DRAIN_DEADLINE_MS = 30_000
/** time between tokens of the streams open at SIGTERM: 20 tokens take 8 s, well inside the deadline */
const FINAL_PACE_MS = 400
/** a client that got a 5xx or no reply waits this long before its next request, as a real one would */
const BACKOFF_MS = 1000
const log = (m) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const execAsync = (cmd, args) => new Promise((resolve, reject) => {
  execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(Object.assign(err, { stdout })) : resolve(stdout)))
})

// ---- clean-up: whatever was started is stopped, the tmpfs unmounted, also when the soak fails ----
const cleanups = []
let cleaning = null
function cleanUp () {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn() } catch (err) { log(`clean-up: ${err?.message ?? err}`) }
    }
  })()
  return cleaning
}
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { log(`${sig}: cleaning up`); void cleanUp().then(() => process.exit(130)) })

try {
  process.exitCode = await soak()
} catch (err) {
  log(`soak failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanUp()
}
// undici and the receiver may keep handles open; the verdict is written
process.exit(process.exitCode)

async function soak () {
  // ---- set-up: private servers, audit tmpfs, fleet, config, credentials ---------------------------
  const dir = mkdtempSync(join(tmpdir(), 'gh-soak-'))
  cleanups.push(() => { if (!values.keep) rmSync(dir, { recursive: true, force: true }); else log(`kept ${dir}`) })
  const pg = await startPostgres()
  cleanups.push(() => pg.destroy())
  const redis = await startRedis()
  cleanups.push(() => redis.destroy())
  const syslog = createSyslogReceiver({ port: await freePort() })
  await syslog.start()
  cleanups.push(() => syslog.stop())
  // the audit log stays on the tmpfs for the whole run: its limit is generous (a tmpfs only holds
  // what is written), filling it shrinks it to what it holds
  const auditFs = mountAuditFs(Math.max(512, Math.ceil(minutes * (streams + small * 20) * 30 * 1.2 / 1024) * 2))
  cleanups.push(() => {
    // --keep keeps the audit files too: copied off the tmpfs before it goes
    if (values.keep) cpSync(auditFs.dir, join(dir, 'logs'), { recursive: true, filter: (f) => !f.endsWith('filler') })
    auditFs.unmount()
  })
  const hosts = ['gpu-a', 'gpu-b', 'gpu-c'].map((name) => createFakeOllama({ name }))
  for (const h of hosts) await h.start()
  cleanups.push(async () => { for (const h of hosts) await h.close() })
  log(`PostgreSQL ${pg.url}, Redis ${redis.url}, syslog tcp://127.0.0.1:${syslog.port}, audit tmpfs ${auditFs.dir}`)

  mkdirSync(join(dir, 'config'))
  const file = join(dir, 'config', 'gatehouse.yaml')
  const auditPath = join(auditFs.dir, 'audit.log')
  const conns = streams + small + 100
  writeFileSync(file, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { enabled: false },
    dataDir: '../data',
    store: { url: pg.url },
    redis: { url: redis.url, keyPrefix: 'soak:' },
    upstream: {
      hosts: hosts.map((h) => ({ name: h.name, url: h.url })),
      connectTimeoutMs: 1000, headersTimeoutMs: 30_000, idleTimeoutMs: 30_000,
      health: { intervalSeconds: 2, failuresToEject: 2, cooldownSeconds: 5 }
    },
    limits: { maxConnections: conns, connectionsPerSource: conns, maxEventLoopDelayMs: SHED_MS },
    rateLimit: { requestsPerMinute: 1_000_000, concurrentStreams: 100_000 },
    auth: { mfa: { requiredForRoles: [] } },
    audit: {
      failClosed: true,
      replicaId: 'soak',
      sinks: [{ type: 'file', path: auditPath }, { type: 'syslog', url: `tcp://127.0.0.1:${syslog.port}` }]
    },
    log: { level: 'warn' }
  }))
  const gh = (args, input = '') => execFileSync(process.execPath, [BIN, ...args, '--config', file], { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString()
  const keys = Array.from({ length: 6 }, (_, i) => JSON.parse(gh(['key', 'create', '--name', `soak-${i}`, '--role', 'user', '--json'])).key)
  const adminKey = JSON.parse(gh(['key', 'create', '--name', 'soak-metrics', '--role', 'admin', '--json'])).key
  const PASSWORD = 'violet-harbor-cinnamon-42'
  const users = ['soak-ann', 'soak-ben', 'soak-cid']
  for (const u of users) gh(['user', 'add', u, '--role', 'user', '--password-stdin'], PASSWORD + '\n')

  // ---- the gateway as a child process ----------------------------------------------------------
  const child = spawn(process.execPath, [...(process.env.SOAK_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean), BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let exitedAt = 0
  let signalled = false
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { exitedAt = Date.now(); resolve({ code, signal }) }))
  cleanups.push(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  let childOut = ''
  const gatewayLog = { errors: 0, unhandled: 0, lines: [] }
  const scan = (text) => {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      let level = 0
      try { level = JSON.parse(line).level ?? 0 } catch { /* not pino */ }
      if (level >= 50) gatewayLog.errors++
      if (/uncaught|unhandled/i.test(line)) { gatewayLog.unhandled++; if (gatewayLog.lines.length < 20) gatewayLog.lines.push(line.slice(0, 500)) }
    }
  }
  // everything the gateway prints is kept in the working folder (--keep keeps it)
  const gatewayOut = createWriteStream(join(dir, 'gateway.log'))
  child.stdout.on('data', (d) => { gatewayOut.write(d); scan(d.toString()) })
  child.stderr.on('data', (d) => gatewayOut.write(d))
  const base = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gateway did not start:\n${childOut}`)), 30_000)
    child.stderr.on('data', (d) => {
      const s = d.toString()
      childOut = (childOut + s).slice(-100_000)
      scan(s)
      const m = /gatehouse listening on (https?:\/\/\S+)/.exec(childOut)
      if (m) { clearTimeout(t); resolve(m[1]) }
    })
    void exited.then(({ code }) => reject(new Error(`gateway exited ${code}:\n${childOut}`)))
  })
  const pid = child.pid
  log(`gateway pid ${pid} at ${base}; ${streams} streams + ${small} small-request clients for ${minutes} min`)
  const agent = new Agent({ connections: conns, keepAliveTimeout: 10_000 })
  cleanups.push(() => agent.destroy())

  const sessions = []
  for (const u of users) {
    const r = await request(base + '/auth/login', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) })
    const j = await r.body.json()
    if (r.statusCode !== 200 || !j.access_token) throw new Error(`login ${u}: ${r.statusCode} ${JSON.stringify(j)}`)
    sessions.push(j.access_token)
  }
  const creds = [...keys.map((k) => ({ kind: 'api_key', token: k })), ...sessions.map((t) => ({ kind: 'session', token: t }))]

  // ---- sampling --------------------------------------------------------------------------------
  const proc = (what) => {
    try {
      if (what === 'rss') return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
      return readdirSync(`/proc/${pid}/fd`).length
    } catch { return NaN }
  }
  const metrics = async () => {
    const r = await request(base + '/metrics', { dispatcher: agent, headers: { authorization: `Bearer ${adminKey}` } })
    return await r.body.text()
  }
  const samples = []
  const t0 = Date.now()
  // CPU between samples: the gateway's (user + system, all its threads) as a share of one core, the
  // whole machine's busy share of all its cores, and of that the share the hypervisor gave to other
  // guests (steal); the event-loop figure reads differently when the gateway has the CPU it asks for
  // and when it waits for it
  const gatewayProc = tree(pid)
  let cpuMark = { at: Date.now(), gateway: gatewayProc.cpuSeconds(), machine: machineCpuTicks() }
  const cpuSince = () => {
    const now = { at: Date.now(), gateway: gatewayProc.cpuSeconds(), machine: machineCpuTicks() }
    const seconds = (now.at - cpuMark.at) / 1000
    // under a second the kernel's 10 ms ticks say little; a gateway that has exited reads as 0 CPU
    const gatewayPct = seconds < 1 || now.gateway < cpuMark.gateway ? null : Math.round((now.gateway - cpuMark.gateway) / seconds * 100)
    const total = now.machine.total - cpuMark.machine.total
    const pct = (what) => seconds >= 1 && total > 0 ? Math.round((now.machine[what] - cpuMark.machine[what]) / total * 100) : null
    const shares = { gatewayCpuPct: gatewayPct, machineBusyPct: pct('busy'), machineStealPct: pct('steal') }
    cpuMark = now
    return shares
  }
  async function sample () {
    let lagP99 = NaN
    let heap = NaN
    try {
      const text = await metrics()
      lagP99 = Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000
      heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576
    } catch { /* counted as a missing sample */ }
    samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: Math.round(proc('rss') * 10) / 10, heapUsedMiB: Math.round(heap * 10) / 10, fds: proc('fds'), eventLoopP99Ms: Math.round(lagP99 * 10) / 10, ...cpuSince() })
  }
  await sample()
  const fdsBefore = proc('fds')

  // ---- load --------------------------------------------------------------------------------------
  const tally = {
    sent: 0, replies: 0, completed: 0, refused: {}, errors: {},
    streams: { started: 0, completed: 0, errorLine: 0, unterminated: 0 }, unmasked: 0
  }
  /** request id → the status its client got */
  const clientStatus = new Map()
  /** per reply: when it ended (ms from t0), its status, its refusal reason, how its stream ended */
  const replies = []
  const clientErrors = []
  /** per credential kind: the latest send time of a request that got a 2xx (ms from t0) */
  const lastServedSent = { api_key: -1, session: -1, any: -1 }
  const bump = (o, k) => { o[k] = (o[k] ?? 0) + 1 }
  const errKind = (err) => String(err?.code ?? err?.name ?? 'error')
  let endAt = t0 + durationMs
  // a gateway that dies under load ends the load: the verdict then says what was lost
  void exited.then(() => { if (!signalled) { log(`gateway exited during the load:\n${childOut.slice(-2000)}`); endAt = 0 } })
  // the client sees a message on /api/* and a code on /v1/*: both are named by the code
  const codeOf = new Map(Object.values(gatehouseErrors).map((E) => { const e = new E(); return [e.message, e.code] }))
  const reasonOf = (text) => {
    try {
      const e = JSON.parse(text).error
      const r = typeof e === 'object' && e !== null ? (e.code ?? e.message) : e
      return codeOf.get(r) ?? String(r)
    } catch { return 'unreadable' }
  }

  function lastLine (text) {
    const lines = text.split('\n').filter((l) => l.trim() !== '')
    return lines.at(-1) ?? ''
  }

  /** one request; resolves to the reply record, or null when no reply came */
  async function once (path, opts, classify, kind, hooks = {}) {
    tally.sent++
    const sent = Date.now() - t0
    let res
    try {
      res = await request(base + path, { dispatcher: agent, headersTimeout: 60_000, bodyTimeout: 60_000, ...opts })
    } catch (err) {
      bump(tally.errors, errKind(err))
      clientErrors.push({ t: Date.now() - t0, kind: errKind(err) })
      return null
    }
    hooks.onHeaders?.()
    const id = res.headers['x-request-id']
    let text = ''
    let cut = null
    try { for await (const c of res.body) text += c } catch (err) { cut = err }
    tally.replies++
    const rec = { end: Date.now() - t0, status: res.statusCode, reason: null, stream: null }
    replies.push(rec)
    if (id) clientStatus.set(String(id), res.statusCode)
    else bump(tally.errors, 'no-request-id')
    if (res.statusCode >= 400) {
      rec.reason = `${res.statusCode} ${reasonOf(text)}`
      bump(tally.refused, rec.reason)
      return rec
    }
    if (sent > lastServedSent[kind]) lastServedSent[kind] = sent
    if (sent > lastServedSent.any) lastServedSent.any = sent
    rec.stream = classify(text, cut)
    return rec
  }

  /** classifies a 200 stream; returns 'done', 'error:<its error>' or 'cut' */
  function classifyStream (openai) {
    return (text, cut) => {
      tally.streams.started++
      if (cut) {
        bump(tally.errors, `stream-${errKind(cut)}`)
        clientErrors.push({ t: Date.now() - t0, kind: `stream-${errKind(cut)}` })
      }
      const last = lastLine(text)
      let end = 'cut'
      if (openai ? last === 'data: [DONE]' : /"done":true/.test(last)) { tally.streams.completed++; tally.completed++; end = 'done' } else if (/"error"/.test(last)) {
        tally.streams.errorLine++
        end = `error:${reasonOf(last.replace(/^data: /, ''))}`
      } else tally.streams.unterminated++
      if (!openai) {
        const said = text.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l).message?.content ?? '' } catch { return '' } }).join('')
        if (said.includes('doe@example.com') || said.includes('555 0132')) tally.unmasked++
      }
      return end
    }
  }

  const streamRequest = (i, cred, dispatcher = agent) => {
    const openai = i % 4 === 0
    return [openai ? '/v1/chat/completions' : '/api/chat', {
      dispatcher,
      method: 'POST', headers: { authorization: `Bearer ${cred.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Say hello to bob@example.org' }], stream: true })
    }, classifyStream(openai)]
  }
  const backoff = (rec) => (rec === null || rec.status >= 500 ? sleep(BACKOFF_MS) : null)

  async function streamClient (i) {
    while (Date.now() < endAt) {
      const cred = creds[i % creds.length]
      const [path, opts, classify] = streamRequest(i, cred)
      await backoff(await once(path, opts, classify, cred.kind))
    }
  }

  const SMALL = [
    (h) => ['/api/tags', { method: 'GET', headers: h }],
    (h) => ['/api/show', { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"model":"llama3.2"}' }],
    (h) => ['/api/chat', { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"model":"qwen2.5:7b","messages":[{"role":"user","content":"hi"}],"stream":false}' }],
    (h) => ['/v1/models', { method: 'GET', headers: h }],
    () => ['/api/tags', { method: 'GET', headers: { authorization: 'Bearer gh_not-a-real-key' } }]
  ]
  async function smallClient (i) {
    let n = i
    while (Date.now() < endAt) {
      const cred = creds[n % creds.length]
      const [path, opts] = SMALL[n % SMALL.length]({ authorization: `Bearer ${cred.token}` })
      await backoff(await once(path, opts, () => { tally.completed++ }, cred.kind))
      n++
      await sleep(100)
    }
  }

  // ---- faults on a schedule -----------------------------------------------------------------------
  const plan = faultPlan({
    victim: hosts[2],
    pg,
    redis,
    syslog,
    auditFs,
    servedSince: (since, kind = 'any') => lastServedSent[kind] >= since - t0,
    fileSinkUp: async () => /^gatehouse_audit_sink_up\{index="0",type="file"\} 1$/m.test(await metrics())
  })
  const faultsDone = runFaults(plan, { t0, durationMs, log, aborted: () => endAt === 0 })
  const sampler = setInterval(() => { void sample() }, SAMPLE_MS)
  const progress = setInterval(() => log(`sent ${tally.sent}, replies ${tally.replies}, streams ${JSON.stringify(tally.streams)}, refused ${JSON.stringify(tally.refused)}`), 30_000)

  await Promise.all([
    ...Array.from({ length: streams }, (_, i) => streamClient(i)),
    ...Array.from({ length: small }, (_, i) => smallClient(i))
  ])
  const loadEndMs = Date.now() - t0
  await faultsDone
  clearInterval(sampler)
  clearInterval(progress)
  await sample()
  // the client's keep-alive connections are the gateway's descriptors too: close them, then wait
  // (bounded) for the count to come back; pooled keep-alive connections to the Ollama hosts are
  // counted apart, since the gateway keeps them on purpose
  await agent.close()
  const upstreamPool = () => hosts.reduce((n, h) => n + h.connections(), 0)
  const fdsDeadline = Date.now() + 20_000
  while (proc('fds') - upstreamPool() > fdsBefore + 20 && Date.now() < fdsDeadline) await sleep(500)
  const fdsAfter = proc('fds')
  const upstreamKeepAlive = upstreamPool()

  // ---- SIGTERM with N streams open ---------------------------------------------------------------
  for (const h of hosts) h.pace(FINAL_PACE_MS)
  const finalAgent = new Agent({ connections: streams + 10 })
  cleanups.push(() => finalAgent.destroy())
  const final = { streams, opened: 0, ended: 0, openAtSignal: 0, done: 0, other: {}, newConnection: null, newConnectionRefusedAfterMs: null, drainMs: null }
  const finals = Array.from({ length: streams }, async (_, i) => {
    const cred = creds[i % creds.length]
    const [path, opts, classify] = streamRequest(i, cred, finalAgent)
    const rec = await once(path, opts, classify, cred.kind, { onHeaders: () => { final.opened++ } })
    final.ended++
    if (rec?.stream === 'done') final.done++
    else bump(final.other, rec === null ? 'no reply' : rec.stream ?? `${rec.status}`)
  })
  const openDeadline = Date.now() + 60_000
  while (final.opened < streams && final.ended < streams && Date.now() < openDeadline) await sleep(50)
  final.openAtSignal = final.opened - final.ended
  log(`SIGTERM with ${final.openAtSignal} streams open`)
  const signalAt = Date.now()
  signalled = true
  child.kill('SIGTERM')
  // a new connection once draining: refused, or told 503
  while (Date.now() - signalAt < 10_000 && exitedAt === 0) {
    const fresh = new Agent()
    const got = await request(base + '/healthz', { dispatcher: fresh, headersTimeout: 2000 }).then(async (r) => { await r.body.text(); return r.statusCode }, (err) => errKind(err))
    await fresh.destroy()
    if (got !== 200) { final.newConnection = got; final.newConnectionRefusedAfterMs = Date.now() - signalAt; break }
    await sleep(50)
  }
  await Promise.all(finals)
  const exit = await exited
  final.drainMs = exitedAt - signalAt
  log(`gateway exited ${JSON.stringify(exit)} ${final.drainMs} ms after SIGTERM`)
  await finalAgent.close()
  for (const h of hosts) await h.close()

  // ---- the audit trail ---------------------------------------------------------------------------
  const logFiles = readdirSync(auditFs.dir).filter((f) => f.startsWith('audit.log') && !f.endsWith('.checkpoints')).map((f) => join(auditFs.dir, f))
  const DECISIONS = new Set(['model-request', 'access-denied'])
  /** request id → { n: decision events, last: the last one's status, supersededOnly: every later one records a refusal for want of audit } */
  const perId = new Map()
  const filePoints = new Set()
  let events = 0
  let counted = 0
  let lastSeq = 0
  for (const f of logFiles) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue
      const e = JSON.parse(line)
      const chain = e.gatehouse?.chain
      if (chain) filePoints.add(`${chain.replica}:${chain.seq}`)
      if (chain?.replica !== 'soak') continue
      events++
      lastSeq = Math.max(lastSeq, chain.seq)
      // a decision is one model-request or access-denied event; a refused credential also has its
      // token-rejected event (authentication), which is not a second decision
      if (!DECISIONS.has(e.event?.action)) continue
      const id = e.http?.request?.id
      if (id) {
        const status = e.http?.response?.status_code ?? null
        const seen = perId.get(id)
        // the documented exception: an event a sink had already let out when its flush failed
        // cannot be rebuilt, so a later event records the refusal (reason audit-unavailable) and counts
        if (!seen) perId.set(id, { n: 1, last: status, supersededOnly: true })
        else perId.set(id, { n: seen.n + 1, last: status, supersededOnly: seen.supersededOnly && e.gatehouse?.reason === 'audit-unavailable' })
      }
      // a counted event stands for repeat_count refusals, itself included: the others have no line of their own
      if (typeof e.gatehouse?.repeat_count === 'number') counted += e.gatehouse.repeat_count - 1
    }
  }
  let withoutEvent = 0
  let duplicated = 0
  let superseded = 0
  const statusMismatches = []
  for (const [id, status] of clientStatus) {
    const seen = perId.get(id)
    if (!seen) { withoutEvent++; continue }
    if (seen.n > 1 && seen.supersededOnly) superseded++
    else if (seen.n > 1) duplicated++
    if (seen.last !== status) statusMismatches.push({ id, client: status, event: seen.last })
  }
  const syslogMissing = [...filePoints].filter((p) => !syslog.points.has(p)).length
  const checkpointsFile = `${auditPath}.checkpoints`
  const lastCheckpoint = existsSync(checkpointsFile)
    ? readFileSync(checkpointsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((c) => c.replica === 'soak').at(-1) ?? null
    : null
  let verify
  try {
    verify = { ok: true, out: await execAsync(process.execPath, [BIN, 'audit', 'verify', '--json', '--config', file, ...logFiles]) }
  } catch (err) { verify = { ok: false, out: String(err.stdout || err) } }
  await syslog.stop()

  // ---- verdict -----------------------------------------------------------------------------------
  const half = samples.filter((s) => s.t >= samples.at(-1).t / 2 && Number.isFinite(s.rssMiB))
  function slopePerMin (pts) {
    if (pts.length < 2) return null
    const n = pts.length
    const mx = pts.reduce((a, p) => a + p.t, 0) / n
    const my = pts.reduce((a, p) => a + p.rssMiB, 0) / n
    const num = pts.reduce((a, p) => a + (p.t - mx) * (p.rssMiB - my), 0)
    const den = pts.reduce((a, p) => a + (p.t - mx) ** 2, 0)
    return den === 0 ? null : Math.round(num / den * 60 * 100) / 100
  }
  // the first sample covers start-up (migrations, logins), not the load
  const lags = samples.slice(1).map((s) => s.eventLoopP99Ms).filter(Number.isFinite)
  const lostAuditEvents = Math.max(0, withoutEvent - counted)
  const faults = observe(plan, replies, clientErrors, loadEndMs)
  const byId = Object.fromEntries(faults.map((f) => [f.fault, f]))
  const refusedIn = (id, code, phase) => (phase === undefined ? byId[id] : byId[id].phases[phase]).refused[`503 ${code}`] ?? 0
  const short = !(minutes === 10 && streams === 1000)
  const result = {
    label: short ? `SHORT RUN: ${minutes} min, ${streams} streams — not the full figures (npm run soak with defaults)` : 'full run (defaults)',
    parameters: {
      minutes, streams, smallClients: small, hosts: hosts.length, cpus: cpus().length, node: process.version, shedMs: SHED_MS,
      loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100)
    },
    finishedAt: new Date().toISOString(),
    sent: tally.sent,
    replies: tally.replies,
    completed: tally.completed,
    refused: tally.refused,
    errors: tally.errors,
    streams: tally.streams,
    unterminatedStreams: tally.streams.unterminated,
    unmaskedReplies: tally.unmasked,
    audit: {
      events, decisions: clientStatus.size, repliesWithoutOwnEvent: withoutEvent, accountedByRepeatCount: counted,
      repliesWithSeveralEvents: duplicated, supersededByAuditRefusal: superseded,
      statusMismatches: statusMismatches.length, statusMismatchExamples: statusMismatches.slice(0, 5),
      verify: verify.ok ? 'pass' : 'FAIL', files: logFiles.length,
      syslogMissing, lastSeq, lastCheckpointSeq: lastCheckpoint?.seq ?? null
    },
    lostAuditEvents,
    unhandledExceptions: gatewayLog.unhandled,
    unhandledLines: gatewayLog.lines,
    gatewayErrorLogLines: gatewayLog.errors,
    exit,
    shutdown: final,
    rss: { firstMiB: samples[0]?.rssMiB, lastMiB: samples.at(-1)?.rssMiB, maxMiB: Math.max(...samples.map((s) => s.rssMiB)), secondHalfSlopeMiBPerMin: slopePerMin(half) },
    eventLoopDelayP99Ms: { max: lags.length ? Math.max(...lags) : null, median: lags.length ? [...lags].sort((a, b) => a - b)[Math.floor(lags.length / 2)] : null },
    fds: { before: fdsBefore, after: fdsAfter, upstreamKeepAlive },
    faults,
    samples
  }
  const recovered = (id) => byId[id].recoveryMs !== null && byId[id].steps.every((s) => !s.error)
  const checks = [
    ['zero lost audit events', lostAuditEvents === 0],
    ['no reply with two events (but the documented audit-unavailable supersede)', duplicated === 0],
    ['every event records the status its client got', statusMismatches.length === 0],
    ['zero unterminated streams', tally.streams.unterminated === 0],
    ['zero unhandled exceptions', gatewayLog.unhandled === 0],
    ['audit verify passes', verify.ok],
    ['no PII left unmasked', tally.unmasked === 0],
    ['Ollama host killed: recovered without a restart', recovered('ollama-host')],
    ['PostgreSQL down: refused with 503 GH_ERR_STORE_UNAVAILABLE; keys and sessions served again after', refusedIn('postgres', 'GH_ERR_STORE_UNAVAILABLE') > 0 && recovered('postgres')],
    ['Redis down: refused with 503 GH_ERR_SHARED_STATE_UNAVAILABLE; served again after', refusedIn('redis', 'GH_ERR_SHARED_STATE_UNAVAILABLE') > 0 && recovered('redis')],
    ['syslog down with the file sink up: nothing refused for want of audit; reconnected', refusedIn('syslog', 'GH_ERR_AUDIT_UNAVAILABLE') === 0 && recovered('syslog')],
    ['audit disk full with syslog up: nothing refused for want of audit', refusedIn('audit-disk', 'GH_ERR_AUDIT_UNAVAILABLE', 0) === 0],
    ['audit disk full and syslog down: refused with 503 GH_ERR_AUDIT_UNAVAILABLE; served again once space is back',
      refusedIn('audit-disk', 'GH_ERR_AUDIT_UNAVAILABLE', 1) > 0 && recovered('audit-disk')],
    [`SIGTERM: ${Math.min(500, streams)}+ streams open at the signal`, final.openAtSignal >= Math.min(500, streams)],
    ['SIGTERM: every open stream ended with its done line within the drain deadline', final.done === streams && final.drainMs !== null && final.drainMs < DRAIN_DEADLINE_MS],
    ['SIGTERM: a new connection was refused (or told 503) while draining', final.newConnection !== null],
    ['exit 0 after SIGTERM', exit.code === 0],
    ['final checkpoint covers the last event', lastCheckpoint !== null && lastCheckpoint.seq === lastSeq],
    // figures of the full run on an idle machine: a short run reports them without judging them
    ['RSS slope in the second half < 1 MiB/min', result.rss.secondHalfSlopeMiBPerMin !== null && result.rss.secondHalfSlopeMiBPerMin < 1, 'full run'],
    ['event-loop delay p99 < 50 ms', result.eventLoopDelayP99Ms.max !== null && result.eventLoopDelayP99Ms.max < 50, 'full run'],
    ['file descriptors back to where they started (±20, pooled upstream connections apart)', Math.abs(fdsAfter - upstreamKeepAlive - fdsBefore) <= 20]
  ]
  const judged = checks.filter(([, , only]) => !(short && only === 'full run'))
  result.checks = Object.fromEntries(checks.map(([name, ok]) => [name, ok]))
  result.notJudged = checks.filter((c) => !judged.includes(c)).map(([name]) => name)
  result.verdict = judged.every(([, ok]) => ok) ? 'PASS' : 'FAIL'

  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(result))
  if (!verify.ok) log(`audit verify:\n${verify.out.slice(0, 2000)}`)
  if (gatewayLog.lines.length > 0) log(`gateway:\n${gatewayLog.lines.join('\n')}`)
  log(`verdict ${result.verdict}: ${judged.filter(([, ok]) => !ok).map(([n]) => n).join(', ') || 'all checks pass'}`)
  return result.verdict === 'PASS' ? 0 : 1
}
