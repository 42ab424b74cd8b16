// The load generator, in its own process so its CPU is never counted as the proxy's.
// Forked by run.js with an IPC channel: receives one {cmd, ...} job, sends
// {type:'mark', name:'start'|'end'} at the edges of the measured window (the parent samples
// /proc there), {type:'opened'} when held streams are all open, and finally {type:'result'}.
// Every loop is bounded by a deadline or a count.
import { Pool } from 'undici'

const now = () => Number(process.hrtime.bigint()) / 1e6 // ms
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const send = (msg) => process.send(msg)

function makePool (job, connections) {
  return new Pool(job.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 120_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    connect: job.ca ? { ca: job.ca, servername: 'localhost', timeout: 30_000 } : { timeout: 30_000 }
  })
}

/** headers for the i-th request: credentials rotate (API key / JWT mix) */
const headersFor = (job, i, ua) => ({
  'content-type': 'application/json',
  'user-agent': ua,
  ...(job.credentials.length ? { authorization: job.credentials[i % job.credentials.length] } : {})
})

const SHOW_BODY = JSON.stringify({ model: 'llama3.2' })
const CHAT_BODY = JSON.stringify({ model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'Tell me a short story about a fox.' }] })

async function small (pool, job, i) {
  const res = await pool.request({ method: 'POST', path: '/api/show', headers: headersFor(job, i, 'gatehouse-bench'), body: SHOW_BODY })
  let bytes = 0
  for await (const c of res.body) bytes += c.length
  return res.statusCode === 200 && bytes > 0
}

// a line whose model text is not empty: what a user first sees
const TEXT = /"content":"[^"]/

/** one streamed chat; resolves with time to first body byte, time to first non-empty text, and chunk (line) count */
async function stream (pool, job, i, shape, onFirst) {
  const t0 = now()
  const ua = `gatehouse-bench c=${shape.chunks} d=${shape.delayMs} hold=${shape.hold ? 1 : 0} pii=1`
  const res = await pool.request({ method: 'POST', path: '/api/chat', headers: headersFor(job, i, ua), body: CHAT_BODY })
  let ttft = -1
  let firstText = -1
  let lines = 0
  let tail = ''
  let masked = false
  for await (const c of res.body) {
    if (ttft < 0) { ttft = now() - t0; if (onFirst) onFirst() }
    const s = c.toString()
    if (firstText < 0 && TEXT.test(tail.slice(-32) + s)) firstText = now() - t0
    for (let k = s.indexOf('\n'); k !== -1; k = s.indexOf('\n', k + 1)) lines++
    if (!masked && s.includes('[MASKED_')) masked = true
    tail = (tail + s).slice(-512)
  }
  const ok = res.statusCode === 200 && lines === shape.chunks + 1 && /"done":\s*true/.test(tail)
  return { ok, ttft, firstText, lines, masked, status: res.statusCode, tail: ok ? undefined : tail.slice(-200) }
}

function summary (lat) {
  const a = Float64Array.from(lat).sort()
  const q = (p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : null)
  return { count: a.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: a.length ? a[a.length - 1] : null }
}

/** closed loop: `concurrency` workers back to back; measured window after a warm-up */
async function smallLoad (job) {
  const pool = makePool(job, job.concurrency)
  const lat = []
  let ok = 0; let failed = 0; let i = 0
  const t0 = now()
  const start = t0 + job.warmupMs
  const end = start + job.durationMs
  const marked = { start: false, end: false }
  const mark = (name) => { if (!marked[name]) { marked[name] = true; send({ type: 'mark', name }) } }
  const startTimer = setTimeout(() => mark('start'), job.warmupMs)
  const endTimer = setTimeout(() => mark('end'), job.warmupMs + job.durationMs)
  const worker = async () => {
    while (now() < end) {
      const s = now()
      const good = await small(pool, job, i++).catch(() => false)
      const e = now()
      if (s >= start && e <= end) { lat.push(e - s); if (good) ok++; else failed++ } else if (!good) failed++
      if (!good) await sleep(5)
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  clearTimeout(startTimer); clearTimeout(endTimer)
  // the workers can see the deadline pass a moment before the timer fires
  mark('start'); mark('end')
  await pool.close()
  return { completed: ok, failed, rps: ok / (job.durationMs / 1000), ...summary(lat) }
}

/** open loop at a fixed rate; latency counted from the scheduled send time (no coordinated omission) */
async function smallRate (job) {
  const pool = makePool(job, job.connections)
  const interval = 1000 / job.rate
  const total = Math.round(job.rate * (job.warmupMs + job.durationMs) / 1000)
  const warm = Math.round(job.rate * job.warmupMs / 1000)
  const lat = []
  let ok = 0; let failed = 0; let dropped = 0; let inflight = 0
  const pending = []
  const t0 = now() + 5
  let next = 0
  while (next < total) {
    const t = now()
    while (next < total && t0 + next * interval <= t) {
      const idx = next++
      const scheduled = t0 + idx * interval
      if (idx === warm) send({ type: 'mark', name: 'start' })
      if (inflight >= job.maxInflight) { dropped++; continue }
      inflight++
      pending.push(small(pool, job, idx).catch(() => false).then((good) => {
        inflight--
        if (idx >= warm) { lat.push(now() - scheduled); if (good) ok++; else failed++ }
      }))
    }
    await sleep(Math.max(0, Math.min(interval, t0 + next * interval - now())))
  }
  await Promise.all(pending)
  send({ type: 'mark', name: 'end' })
  await pool.close()
  return { completed: ok, failed, dropped, rate: job.rate, ...summary(lat) }
}

/** `concurrency` streams at once (after a warm-up wave that also opens the connections) */
async function streams (job) {
  const pool = makePool(job, job.concurrency)
  const wave = async (shape, n) => Promise.all(Array.from({ length: n }, (_, i) => stream(pool, job, i, shape).catch((err) => ({ ok: false, ttft: -1, lines: 0, error: err.message }))))
  await wave({ chunks: 5, delayMs: 0, hold: false }, job.concurrency)
  await wave({ chunks: 5, delayMs: 0, hold: false }, job.concurrency)
  send({ type: 'mark', name: 'start' })
  const t0 = now()
  const shape = { chunks: job.chunks, delayMs: job.delayMs, hold: false }
  // starts spread over staggerMs: time to first token at a steady load, not behind a burst of 100 requests
  const gap = (job.staggerMs ?? 0) / job.concurrency
  const results = await Promise.all(Array.from({ length: job.concurrency }, async (_, i) => {
    await sleep(i * gap)
    return stream(pool, job, i, shape).catch((err) => ({ ok: false, ttft: -1, lines: 0, error: err.message }))
  }))
  const elapsed = now() - t0
  send({ type: 'mark', name: 'end' })
  await pool.close()
  const good = results.filter((r) => r.ok)
  const chunks = results.reduce((s, r) => s + r.lines, 0)
  const bad = results.find((r) => !r.ok)
  return {
    streams: results.length, ok: good.length, failed: results.length - good.length, chunks,
    chunksPerSec: chunks / (elapsed / 1000), masked: results.some((r) => r.masked),
    ttft: summary(good.map((r) => r.ttft)), firstText: summary(good.map((r) => r.firstText).filter((x) => x >= 0)), firstFailure: bad ? { status: bad.status, error: bad.error, tail: bad.tail } : undefined
  }
}

/** open `count` held streams, tell the parent when all have their first chunk, wait for the release */
async function hold (job) {
  const pool = makePool(job, job.count)
  const warm = async (n) => Promise.all(Array.from({ length: n }, (_, i) => stream(pool, job, i, { chunks: 3, delayMs: 0, hold: false }).catch(() => null)))
  await warm(Math.min(20, job.count))
  send({ type: 'mark', name: 'start' })
  let first = 0
  let resolveOpened
  const opened = new Promise((resolve) => { resolveOpened = resolve })
  // at most job.openWindow streams opening at once (default: all): thousands of simultaneous TLS
  // handshakes overflow the listen backlog and time out, which measures the harness, not the proxy
  const window = job.openWindow ?? job.count
  let opening = 0
  const waiting = []
  const opened1 = () => { opening--; waiting.shift()?.() }
  const errors = new Map()
  // once the opening phase is over (all open, stalled or timed out) no queued stream starts: the
  // release ends the held ones, and a stream opened after it would be held with nothing to end it
  let stopOpening = false
  const all = Promise.all(Array.from({ length: job.count }, async (_, i) => {
    if (opening >= window) await new Promise((resolve) => waiting.push(resolve))
    if (stopOpening) return { ok: false, lines: 0, skipped: true }
    opening++
    let settled = false
    const onFirst = () => { settled = true; opened1(); if (++first >= job.count) resolveOpened() }
    return stream(pool, job, i, { chunks: 4, delayMs: 0, hold: true }, onFirst)
      .catch((err) => { errors.set(err.code ?? err.message, (errors.get(err.code ?? err.message) ?? 0) + 1); return { ok: false, lines: 0, error: err.message } })
      .finally(() => { if (!settled) opened1() })
  }))
  // give up after openTimeoutMs, or sooner when no stream has opened for stallMs (e.g. a connection cap)
  const stalled = (async () => {
    const deadline = now() + job.openTimeoutMs
    let seen = -1; let since = now()
    while (now() < deadline) {
      await sleep(250)
      if (first >= job.count) return false
      if (first !== seen) { seen = first; since = now() } else if (now() - since > (job.stallMs ?? 5000)) return true
    }
    return true
  })()
  const timedOut = await Promise.race([opened.then(() => false), stalled])
  stopOpening = true
  for (const w of waiting.splice(0)) w()
  send({ type: 'opened', open: first, timedOut })
  const results = await all
  send({ type: 'mark', name: 'end' })
  await pool.close()
  return { requested: job.count, opened: first, ok: results.filter((r) => r && r.ok).length, timedOut, errors: Object.fromEntries(errors) }
}

const JOBS = { smallLoad, smallRate, streams, hold }

process.on('message', (job) => {
  const run = JOBS[job.cmd]
  if (!run) { send({ type: 'result', error: `unknown job ${job.cmd}` }); return }
  const guard = setTimeout(() => { send({ type: 'result', error: `job ${job.cmd} exceeded ${job.timeoutMs} ms` }); process.exit(3) }, job.timeoutMs ?? 120_000)
  run(job).then(
    (result) => { clearTimeout(guard); send({ type: 'result', result }); process.disconnect() },
    (err) => { clearTimeout(guard); send({ type: 'result', error: err.stack ?? String(err) }); process.disconnect() }
  )
})
process.on('disconnect', () => setTimeout(() => process.exit(0), 50).unref())
