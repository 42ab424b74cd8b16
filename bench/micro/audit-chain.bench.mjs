// Events per second through the audit emitter (build + HMAC chain + file sink), against pino writing
// the same event without a chain, and the failClosed path that fdatasyncs before each reply.
// Run after `npm run build`: node bench/micro/audit-chain.bench.mjs [events] [--json]
// With --json the last stdout line is one JSON object (bench/lib/micro.js reads it).
import { performance } from 'node:perf_hooks'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pino from 'pino'

const dist = process.env.GATEHOUSE_DIST ? pathToFileURL(process.env.GATEHOUSE_DIST + '/') : new URL('../../dist/', import.meta.url)
const { createAuditLog, verifyAuditFiles } = await import(new URL('audit/index.js', dist).href)

const args = process.argv.slice(2)
const json = args.includes('--json')
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000)
const summary = {}
const dir = mkdtempSync(join(tmpdir(), 'gh-audit-bench-'))
const pair = generateKeyPairSync('ed25519')
const keys = { chainKey: randomBytes(32), checkpointKey: pair.privateKey, checkpointPublicKey: pair.publicKey }
const clock = { now: () => Date.now() }

const input = (i) => ({
  action: 'model-request',
  outcome: 'success',
  userName: 'bench-user',
  sourceIp: '203.0.113.10',
  requestId: `req-${i}`,
  request: {
    method: 'POST', path: '/api/chat', status: 200, durationNs: 123_456_789n, model: 'llama3.2:latest',
    inputTokens: 42, outputTokens: 420, decision: 'allow', credential: 'session', masked: { email: 1 }
  }
})

function report (name, n, ms, extra = '') {
  const rate = Math.round(n / (ms / 1000))
  summary[`${name} (events/s)`] = rate
  console.log(`${name.padEnd(48)} ${String(rate).padStart(9)} events/s  (${n} in ${ms.toFixed(0)} ms)${extra}`)
}

async function auditToFile (n, everyEvents) {
  const path = join(dir, `audit-${everyEvents}.log`)
  const log = await createAuditLog({
    config: { failClosed: true, sinks: [{ type: 'file', path, maxBytes: 1 << 30, flushIntervalMs: 100 }], checkpoint: { everyEvents, everySeconds: 60 }, replicaId: null },
    chainKey: keys.chainKey, checkpointKey: keys.checkpointKey, replicaId: 'bench', clock
  })
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    log.emit(input(i))
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve)) // let the sink write, as a server would
  }
  await log.close()
  const ms = performance.now() - t0
  report(`audit emit → file (checkpoint every ${everyEvents})`, n, ms, `, ${(statSync(path).size / n).toFixed(0)} B/event`)
  return path
}

async function auditFailClosed (n) {
  const path = join(dir, 'audit-fsync.log')
  const log = await createAuditLog({
    config: { failClosed: true, sinks: [{ type: 'file', path, maxBytes: 1 << 30, flushIntervalMs: 100 }], checkpoint: { everyEvents: 1000, everySeconds: 60 }, replicaId: null },
    chainKey: keys.chainKey, checkpointKey: keys.checkpointKey, replicaId: 'bench', clock
  })
  const t0 = performance.now()
  // 16 concurrent "requests", each awaiting durability before its reply: fdatasyncs are shared
  let next = 0
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < n) { log.emit(input(next++)); await log.flush() }
  }))
  await log.close()
  report('audit emit + flush() per event (16 concurrent)', n, performance.now() - t0)
}

async function pinoToFile (n) {
  const path = join(dir, 'pino.log')
  const dest = pino.destination({ dest: path, sync: false, minLength: 4096 })
  const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, dest)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const { request, ...rest } = input(i)
    logger.info({ ...rest, request: { ...request, durationNs: Number(request.durationNs) } })
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
  }
  await new Promise((resolve) => { dest.flushSync(); dest.end(); dest.on('close', resolve) })
  report('pino → file (same fields, no chain)', n, performance.now() - t0)
}

try {
  const path = await auditToFile(N, 1000)
  await auditToFile(N, 100)
  await auditFailClosed(Math.min(N, 5000))
  await pinoToFile(N)
  const t0 = performance.now()
  const r = await verifyAuditFiles([path], { chainKey: keys.chainKey, checkpointPublicKey: keys.checkpointPublicKey })
  if (!r.ok) throw new Error(`verify failed: ${r.firstBad?.reason}`)
  report('audit verify', r.events, performance.now() - t0)
  if (json) console.log(JSON.stringify({ events: N, summary }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
