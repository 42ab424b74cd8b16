#!/usr/bin/env node
// The soak: the built gateway as a child process in front of three fake Ollama hosts, N concurrent
// streams plus small requests (API keys and sessions, replies with PII to mask) for D minutes, an
// Ollama host killed and restarted on a schedule, then a verdict: every reply has exactly one audit
// event (counted refusals accounted for), every stream ended with its closing or error line, the
// chain verifies, RSS flat in the second half, event-loop delay p99, file descriptors before/after.
// Loopback only; bounded in time and count. Writes soak/results/latest.{json,md}.
//
//   npm run build && npm run soak                              # full: 10 minutes, 1,000 streams
//   npm run soak -- --minutes 1 --streams 200                  # short (also SOAK_MINUTES, SOAK_STREAMS)
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { createFakeOllama } from './fake-ollama.mjs'

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
const durationMs = Math.round(minutes * 60_000)
const SAMPLE_MS = 10_000
const log = (m) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`)

// ---- set-up: fleet, config, credentials -------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'gh-soak-'))
const hosts = ['gpu-a', 'gpu-b', 'gpu-c'].map((name) => createFakeOllama({ name }))
for (const h of hosts) await h.start()
mkdirSync(join(dir, 'config'))
const file = join(dir, 'config', 'gatehouse.yaml')
const conns = streams + small + 100
writeFileSync(file, stringify({
  listen: { host: '127.0.0.1', port: 0 },
  tls: { enabled: false },
  dataDir: '../data',
  store: { url: 'sqlite:../data/gatehouse.db' },
  upstream: {
    hosts: hosts.map((h) => ({ name: h.name, url: h.url })),
    connectTimeoutMs: 1000, headersTimeoutMs: 30_000, idleTimeoutMs: 30_000,
    health: { intervalSeconds: 2, failuresToEject: 2, cooldownSeconds: 5 }
  },
  limits: { maxConnections: conns, connectionsPerSource: conns },
  rateLimit: { requestsPerMinute: 1_000_000, concurrentStreams: 100_000 },
  auth: { mfa: { requiredForRoles: [] } },
  audit: { failClosed: true, replicaId: 'soak', sinks: [{ type: 'file', path: '../logs/audit.log' }] },
  log: { level: 'warn' }
}))
const gh = (args, input = '') => execFileSync(process.execPath, [BIN, ...args, '--config', file], { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString()
const keys = Array.from({ length: 6 }, (_, i) => JSON.parse(gh(['key', 'create', '--name', `soak-${i}`, '--role', 'user', '--json'])).key)
const adminKey = JSON.parse(gh(['key', 'create', '--name', 'soak-metrics', '--role', 'admin', '--json'])).key
const PASSWORD = 'violet-harbor-cinnamon-42'
const users = ['soak-ann', 'soak-ben', 'soak-cid']
for (const u of users) gh(['user', 'add', u, '--role', 'user', '--password-stdin'], PASSWORD + '\n')

// ---- the gateway as a child process ------------------------------------------------------------
const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
let childOut = ''
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
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
child.stdout.on('data', (d) => scan(d.toString()))
const base = await new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`gateway did not start:\n${childOut}`)), 30_000)
  child.stderr.on('data', (d) => {
    const s = d.toString()
    childOut += s
    scan(s)
    const m = /gatehouse listening on (https?:\/\/\S+)/.exec(childOut)
    if (m) { clearTimeout(t); resolve(m[1]) }
  })
  void exited.then(({ code }) => reject(new Error(`gateway exited ${code}:\n${childOut}`)))
})
const pid = child.pid
log(`gateway pid ${pid} at ${base}; ${streams} streams + ${small} small-request clients for ${minutes} min`)
const agent = new Agent({ connections: conns, keepAliveTimeout: 10_000 })

const sessions = []
for (const u of users) {
  const r = await request(base + '/auth/login', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) })
  const j = await r.body.json()
  if (r.statusCode !== 200 || !j.access_token) throw new Error(`login ${u}: ${r.statusCode} ${JSON.stringify(j)}`)
  sessions.push(j.access_token)
}
const creds = [...keys.map((k) => ({ kind: 'api_key', token: k })), ...sessions.map((t) => ({ kind: 'session', token: t }))]

// ---- sampling ----------------------------------------------------------------------------------
const proc = (what) => {
  try {
    if (what === 'rss') return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
    return readdirSync(`/proc/${pid}/fd`).length
  } catch { return NaN }
}
const samples = []
const t0 = Date.now()
async function sample () {
  let lagP99 = NaN
  let heap = NaN
  try {
    const r = await request(base + '/metrics', { dispatcher: agent, headers: { authorization: `Bearer ${adminKey}` } })
    const text = await r.body.text()
    lagP99 = Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000
    heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576
  } catch { /* counted as a missing sample */ }
  samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: Math.round(proc('rss') * 10) / 10, heapUsedMiB: Math.round(heap * 10) / 10, fds: proc('fds'), eventLoopP99Ms: Math.round(lagP99 * 10) / 10 })
}
await sample()
const fdsBefore = proc('fds')

// ---- load ----------------------------------------------------------------------------------------
const tally = {
  sent: 0, replies: 0, completed: 0, refused: {}, errors: {},
  streams: { started: 0, completed: 0, errorLine: 0, unterminated: 0 }, unmasked: 0
}
const replyIds = []
const bump = (o, k) => { o[k] = (o[k] ?? 0) + 1 }
const errKind = (err) => String(err?.code ?? err?.name ?? 'error')
const endAt = t0 + durationMs

function lastLine (text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  return lines.at(-1) ?? ''
}

async function once (path, opts, classify) {
  tally.sent++
  let res
  try {
    res = await request(base + path, { dispatcher: agent, headersTimeout: 60_000, bodyTimeout: 60_000, ...opts })
  } catch (err) { bump(tally.errors, errKind(err)); return }
  const id = res.headers['x-request-id']
  let text = ''
  let cut = null
  try { for await (const c of res.body) text += c } catch (err) { cut = err }
  tally.replies++
  if (id) replyIds.push(String(id))
  else bump(tally.errors, 'no-request-id')
  if (res.statusCode >= 400) {
    let reason
    try { const j = JSON.parse(text); reason = j.error?.code ?? j.error ?? '' } catch { reason = 'unreadable' }
    bump(tally.refused, `${res.statusCode} ${reason}`)
    return
  }
  classify(text, cut)
}

function classifyStream (openai) {
  return (text, cut) => {
    tally.streams.started++
    if (cut) bump(tally.errors, `stream-${errKind(cut)}`)
    const last = lastLine(text)
    if (openai ? last === 'data: [DONE]' : /"done":true/.test(last)) { tally.streams.completed++; tally.completed++ } else if (/"error"/.test(last)) tally.streams.errorLine++
    else tally.streams.unterminated++
    if (!openai) {
      const said = text.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l).message?.content ?? '' } catch { return '' } }).join('')
      if (said.includes('doe@example.com') || said.includes('555 0132')) tally.unmasked++
    }
  }
}

async function streamClient (i) {
  while (Date.now() < endAt) {
    const cred = creds[i % creds.length]
    const openai = i % 4 === 0
    await once(openai ? '/v1/chat/completions' : '/api/chat', {
      method: 'POST', headers: { authorization: `Bearer ${cred.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Say hello to bob@example.org' }], stream: true })
    }, classifyStream(openai))
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
    await once(path, opts, () => { tally.completed++ })
    n++
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// ---- faults on a schedule -----------------------------------------------------------------------
const faults = []
const at = (fraction, what, fn) => setTimeout(async () => {
  const t = Math.round((Date.now() - t0) / 1000)
  try { await fn(); faults.push({ t, what }) } catch (err) { faults.push({ t, what, error: String(err) }) }
  log(what)
}, Math.round(durationMs * fraction))
const victim = hosts[2]
const timers = [
  at(0.3, `Ollama host ${victim.name} killed (every connection reset)`, () => victim.kill()),
  at(0.45, `Ollama host ${victim.name} restarted on its port`, () => victim.start())
]
const sampler = setInterval(() => { void sample() }, SAMPLE_MS)
const progress = setInterval(() => log(`sent ${tally.sent}, replies ${tally.replies}, streams ${JSON.stringify(tally.streams)}`), 30_000)

await Promise.all([
  ...Array.from({ length: streams }, (_, i) => streamClient(i)),
  ...Array.from({ length: small }, (_, i) => smallClient(i))
])
clearInterval(sampler)
clearInterval(progress)
for (const t of timers) clearTimeout(t)
await sample()
// the client's keep-alive connections are the gateway's descriptors too: close them, then wait
// (bounded) for the count to come back
await agent.close()
// (bounded) for the count to come back; pooled keep-alive connections to the Ollama hosts are
// counted apart, since the gateway keeps them on purpose
const upstreamPool = () => hosts.reduce((n, h) => n + h.connections(), 0)
const fdsDeadline = Date.now() + 20_000
while (proc('fds') - upstreamPool() > fdsBefore + 20 && Date.now() < fdsDeadline) await new Promise((resolve) => setTimeout(resolve, 500))
const fdsAfter = proc('fds')
const upstreamKeepAlive = upstreamPool()
log('load done; SIGTERM')
child.kill('SIGTERM')
const exit = await exited
for (const h of hosts) await h.close()

// ---- the audit trail -----------------------------------------------------------------------------
const logsDir = join(dir, 'logs')
const logFiles = readdirSync(logsDir).filter((f) => f.startsWith('audit.log') && !f.endsWith('.checkpoints')).map((f) => join(logsDir, f))
const DECISIONS = new Set(['model-request', 'access-denied'])
const perId = new Map()
let events = 0
let counted = 0
for (const f of logFiles) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue
    const e = JSON.parse(line)
    if (e.gatehouse?.chain?.replica !== 'soak') continue
    events++
    // a decision is one model-request or access-denied event; a refused credential also has its
    // token-rejected event (authentication), which is not a second decision
    if (!DECISIONS.has(e.event?.action)) continue
    const id = e.http?.request?.id
    if (id) perId.set(id, (perId.get(id) ?? 0) + 1)
    // a counted event stands for repeat_count refusals, itself included: the others have no line of their own
    if (typeof e.gatehouse?.repeat_count === 'number') counted += e.gatehouse.repeat_count - 1
  }
}
let withoutEvent = 0
let duplicated = 0
for (const id of replyIds) {
  const n = perId.get(id) ?? 0
  if (n === 0) withoutEvent++
  if (n > 1) duplicated++
}
let verify
try {
  verify = { ok: true, out: execFileSync(process.execPath, [BIN, 'audit', 'verify', '--json', '--config', file, ...logFiles], { stdio: ['ignore', 'pipe', 'pipe'] }).toString() }
} catch (err) { verify = { ok: false, out: String(err.stdout ?? err) } }

// ---- verdict -------------------------------------------------------------------------------------
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
const result = {
  label: minutes === 10 && streams === 1000 ? 'full run (defaults)' : `SHORT RUN: ${minutes} min, ${streams} streams — not the full figures (npm run soak with defaults)`,
  parameters: { minutes, streams, smallClients: small, hosts: hosts.length, cpus: cpus().length, node: process.version,
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
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
    events, decisions: replyIds.length, repliesWithoutOwnEvent: withoutEvent, accountedByRepeatCount: counted,
    repliesWithSeveralEvents: duplicated, verify: verify.ok ? 'pass' : 'FAIL', files: logFiles.length
  },
  lostAuditEvents,
  unhandledExceptions: gatewayLog.unhandled,
  gatewayErrorLogLines: gatewayLog.errors,
  exit: exit,
  rss: { firstMiB: samples[0]?.rssMiB, lastMiB: samples.at(-1)?.rssMiB, maxMiB: Math.max(...samples.map((s) => s.rssMiB)), secondHalfSlopeMiBPerMin: slopePerMin(half) },
  eventLoopDelayP99Ms: { max: lags.length ? Math.max(...lags) : null, median: lags.length ? [...lags].sort((a, b) => a - b)[Math.floor(lags.length / 2)] : null },
  fds: { before: fdsBefore, after: fdsAfter, upstreamKeepAlive },
  faults,
  samples
}
const checks = [
  ['zero lost audit events', lostAuditEvents === 0],
  ['no reply with two events', duplicated === 0],
  ['zero unterminated streams', tally.streams.unterminated === 0],
  ['zero unhandled exceptions', gatewayLog.unhandled === 0],
  ['audit verify passes', verify.ok],
  ['exit 0 after SIGTERM', exit.code === 0],
  ['no PII left unmasked', tally.unmasked === 0],
  ['RSS slope in the second half < 1 MiB/min', result.rss.secondHalfSlopeMiBPerMin !== null && result.rss.secondHalfSlopeMiBPerMin < 1],
  ['event-loop delay p99 < 50 ms', result.eventLoopDelayP99Ms.max !== null && result.eventLoopDelayP99Ms.max < 50],
  ['file descriptors back to where they started (±20, pooled upstream connections apart)', Math.abs(fdsAfter - upstreamKeepAlive - fdsBefore) <= 20]
]
result.checks = Object.fromEntries(checks)
result.verdict = checks.every(([, ok]) => ok) ? 'PASS' : 'FAIL'

const table = (o) => Object.entries(o).map(([k, v]) => `| ${k} | ${v} |`).join('\n') || '| — | 0 |'
const md = `# Soak result — ${result.verdict}

${result.label}

Parameters: ${minutes} min, ${streams} concurrent streams, ${small} small-request clients, 3 fake Ollama hosts, ` +
`${cpus().length} CPUs, Node ${process.version}; finished ${result.finishedAt}; load average at the end ` +
`${result.parameters.loadAverageAtEnd.join(' / ')} (1 / 5 / 15 min).
The RSS slope and event-loop figures are meant for the full run on an otherwise idle machine: a
run of a minute or two is mostly warm-up, and on a shared machine the event loop waits for CPU.
Produced by \`npm run soak -- --minutes ${minutes} --streams ${streams}\`. The full figures come from \`npm run soak\` (10 min, 1,000 streams).

| figure | value |
|---|---|
| requests sent | ${tally.sent} |
| replies received | ${tally.replies} |
| completed (2xx, streams ended with done) | ${tally.completed} |
| streams: completed / ended with an error line / unterminated | ${tally.streams.completed} / ${tally.streams.errorLine} / ${tally.streams.unterminated} |
| audit: decisions (replies) / events / replies without own event / accounted by repeat_count / replies with several events | ${replyIds.length} / ${events} / ${withoutEvent} / ${counted} / ${duplicated} |
| lost audit events | ${lostAuditEvents} |
| audit verify | ${result.audit.verify} |
| unhandled exceptions | ${gatewayLog.unhandled} |
| replies with PII unmasked | ${tally.unmasked} |
| RSS first / last / max (MiB) | ${result.rss.firstMiB} / ${result.rss.lastMiB} / ${result.rss.maxMiB} |
| RSS slope, second half (MiB/min) | ${result.rss.secondHalfSlopeMiBPerMin} |
| event-loop delay p99, max / median of the 10 s samples under load (ms) | ${result.eventLoopDelayP99Ms.max} / ${result.eventLoopDelayP99Ms.median} |
| open file descriptors before load / after it (client connections closed) / of which pooled upstream connections | ${fdsBefore} / ${fdsAfter} / ${upstreamKeepAlive} |
| exit after SIGTERM | ${exit.code} |

Refused, by status and reason:

| reason | count |
|---|---|
${table(tally.refused)}

Client-side errors, by kind:

| kind | count |
|---|---|
${table(tally.errors)}

Faults injected:

${faults.map((f) => `- t+${f.t}s: ${f.what}${f.error ? ` (failed: ${f.error})` : ''}`).join('\n') || '- none'}

Checks:

${checks.map(([name, ok]) => `- ${ok ? 'pass' : 'FAIL'}: ${name}`).join('\n')}

Samples (every 10 s; RSS, V8 heap used, open fds, event-loop delay p99 over the last 10 s):

| t (s) | RSS (MiB) | heap used (MiB) | fds | event-loop p99 (ms) |
|---:|---:|---:|---:|---:|
${samples.map((s) => `| ${s.t} | ${s.rssMiB} | ${s.heapUsedMiB} | ${s.fds} | ${s.eventLoopP99Ms} |`).join('\n')}
`
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
writeFileSync(join(outDir, 'latest.md'), md)
if (!values.keep) rmSync(dir, { recursive: true, force: true })
else log(`kept ${dir}`)
if (!verify.ok) log(`audit verify:\n${verify.out.slice(0, 2000)}`)
log(`verdict ${result.verdict}: ${checks.filter(([, ok]) => !ok).map(([n]) => n).join(', ') || 'all checks pass'}`)
process.exit(result.verdict === 'PASS' ? 0 : 1)
