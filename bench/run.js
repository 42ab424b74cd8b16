#!/usr/bin/env node
// `npm run bench`: Gatehouse against what a user would otherwise put in front of Ollama (nginx as a
// TLS 1.3 reverse proxy) and against no proxy at all, on the same fake upstream, in one run.
// Prints a table, writes bench/results/latest.json and latest.md. See docs/benchmarks.md.
//
//   node bench/run.js [--runs 3] [--quick] [--held 10000] [--profile] [--keep] [--no-micro] [--no-install] [--render]
import { parseArgs } from 'node:util'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTracked, stopAll, killAllNow, waitForLine, stop as stopChild } from './lib/children.js'
import { raiseOpenFileLimit, tree } from './lib/proc.js'
import { ensureNginx, nginxVersion, startNginx } from './lib/nginx.js'
import { prepareGatehouse, startGatehouse, probeGatehouse } from './lib/gatehouse.js'
import { measure } from './lib/measure.js'
import { fetchOnce, sleep } from './lib/net.js'
import { median, medianOf, round } from './lib/stats.js'
import { machineInfo, buildResults, renderTable, renderMarkdown } from './lib/report.js'
import { runMicro } from './lib/micro.js'
import { summarizeProfiles } from './lib/profile.js'
import { speedProbe, summarizeProbes } from './lib/speed.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RESULTS = join(ROOT, 'bench/results')
const WATCHDOG_MS = 20 * 60_000

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string' },
    held: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'no-micro': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (opt.render) {
  // re-render the table and latest.md from latest.json, without measuring
  const { readFileSync } = await import('node:fs')
  const res = JSON.parse(readFileSync(join(RESULTS, 'latest.json'), 'utf8'))
  writeFileSync(join(RESULTS, 'latest.md'), renderMarkdown(res))
  process.stdout.write(renderTable(res))
  process.exit(0)
}
if (opt.help) {
  process.stdout.write('usage: npm run bench -- [--runs N] [--quick] [--held STREAMS] [--profile] [--keep] [--no-micro] [--no-install] [--render]\n')
  process.exit(0)
}

const quick = opt.quick
const RUNS = Math.max(1, Math.min(9, Number(opt.runs ?? (quick ? 1 : 3)) || 3))
const HELD = Math.max(100, Math.min(20_000, Number(opt.held ?? (quick ? 1000 : 10_000)) || 10_000))
// a held stream is a client and an upstream socket in the proxy, and one socket in the load generator
// and the upstream: raise the limit the bench's processes inherit (see raiseOpenFileLimit)
const FD_RESERVE = 400 // listeners, files, the store, pipes: what a proxy holds besides its streams' sockets
const fdLimit = raiseOpenFileLimit(2 * HELD + FD_RESERVE)
const PARAMS = {
  small: { path: 'POST /api/show', concurrency: 32, warmupMs: quick ? 500 : 1000, durationMs: quick ? 2000 : 3000 },
  rate: { path: 'POST /api/show', rate: 200, connections: 32, maxInflight: 512, warmupMs: 500, durationMs: quick ? 2000 : 3000 },
  streams: { path: 'POST /api/chat', concurrency: 100, chunks: 300, delayMs: 10, staggerMs: 1000 },
  // once per setup (run 1 only): the figure is steady between runs, and 10,000 TLS handshakes per
  // setup and run would double the bench's time
  memory: { path: 'POST /api/chat (held open)', count: Math.min(HELD, Math.floor((fdLimit.limit - FD_RESERVE) / 2)), openTimeoutMs: 180_000, stallMs: 20_000, settleMs: 2000, openWindow: 256, runs: 1 },
  // masking + re-framing: Gatehouse with and without masking, streams back to back (alternating which
  // goes first), so the difference is not moved by the host's drift between far-apart phases
  maskingPairs: quick ? 1 : 2,
  // the fleet's routing: the small-request load on Gatehouse with one host and on Gatehouse in front
  // of three hosts, back to back (alternating which goes first); the CPU difference is the routing's
  fleetPairs: quick ? 1 : 2,
  // unmeasured, once per setup before the first run: JIT compilation and pool growth happen here, so
  // the first run measures the same steady state as the others
  warmup: { small: { concurrency: 32, warmupMs: 0, durationMs: quick ? 2000 : 8000 }, streams: { concurrency: 50, chunks: 100, delayMs: 2, staggerMs: 200 } }
}

const log = (s) => process.stderr.write(s + '\n')
const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
let cleaned = false
async function cleanup () {
  if (cleaned) return
  cleaned = true
  await stopAll(opt.profile ? 15_000 : 3000)
  if (!opt.keep) rmSync(tmp, { recursive: true, force: true })
  else log(`kept ${tmp}`)
}
process.on('exit', killAllNow)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { log(`${sig}: stopping`); cleanup().finally(() => process.exit(130)) })
const watchdog = setTimeout(() => { log(`bench exceeded ${WATCHDOG_MS / 60000} min: stopping`); cleanup().finally(() => process.exit(1)) }, WATCHDOG_MS)
watchdog.unref()

async function startUpstream () {
  const child = spawnTracked('upstream', process.execPath, [join(ROOT, 'bench/lib/upstream.js')])
  const port = await waitForLine(child, [child.stdout], (l) => { try { return JSON.parse(l).port } catch { return null } }, 10_000, 'fake upstream')
  return { port, origin: `http://127.0.0.1:${port}`, proc: tree(child.pid), child }
}

function newestMtime (dir) {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** the bench runs dist/: build it when missing or older than src/ (a failed build is reported, not fatal) */
function ensureBuilt () {
  const marker = join(ROOT, 'dist/cli/main.js')
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(ROOT, 'src'))) return
  log('dist/ missing or older than src/: npm run build')
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 })
  } catch (err) {
    if (!existsSync(marker)) throw err
    log(`npm run build failed (${err.message.split('\n')[0]}): measuring the existing dist/`)
  }
}

async function main () {
  const t0 = Date.now()
  ensureBuilt()
  mkdirSync(RESULTS, { recursive: true })
  log(`gatehouse bench: ${RUNS} run(s)${quick ? ' (quick)' : ''}, temp dir ${tmp}`)
  const notesAtStart = []
  if (fdLimit.raisedFrom !== null) log(`open-file limit raised from ${fdLimit.raisedFrom} to ${fdLimit.limit} for ${HELD} held streams`)
  if (PARAMS.memory.count < HELD) notesAtStart.push(`memory measured at ${PARAMS.memory.count} held streams, not ${HELD}: the open-file limit is ${fdLimit.limit} and could not be raised (it needs CAP_SYS_RESOURCE): a held stream is two sockets in the proxy`)

  const upstream = await startUpstream()
  log(`fake upstream on ${upstream.origin}`)
  const prep = prepareGatehouse({ root: ROOT, dir: join(tmp, 'gatehouse'), upstreamPort: upstream.port, log })

  const setups = { direct: { name: 'direct', origin: upstream.origin, ca: null, proxy: null } }
  const notes = [...notesAtStart]

  const ngx = opt['no-install'] ? { bin: null, reason: '--no-install' } : ensureNginx(log)
  const nginxInfo = { version: ngx.bin ? nginxVersion(ngx.bin) : null, reason: ngx.reason ?? null }
  const startNginxSetup = () => startNginx({ bin: ngx.bin, dir: join(tmp, 'nginx'), upstreamPort: upstream.port, cert: prep.certs.cert, key: prep.certs.key, ca: prep.ca })
  if (ngx.bin) {
    const n = await startNginxSetup()
    setups.nginx = { name: 'nginx', origin: n.origin, ca: prep.ca, proxy: n, restart: startNginxSetup }
    log(`nginx ${nginxInfo.version} on ${n.origin}`)
  } else {
    notes.push(`nginx not measured: ${ngx.reason}`)
    log(`nginx not measured: ${ngx.reason}`)
  }

  // the floor of any Node.js gateway on this machine: a bare node:https + undici proxy
  const startNodeFloor = async () => {
    const child = spawnTracked('node-floor', process.execPath, [join(ROOT, 'bench/lib/node-proxy.js'), prep.certs.cert, prep.certs.key, String(upstream.port)])
    const port = await waitForLine(child, [child.stdout], (l) => { try { return JSON.parse(l).port } catch { return null } }, 10_000, 'node floor proxy')
    return { name: 'node-floor', origin: `https://127.0.0.1:${port}`, pid: child.pid, proc: tree(child.pid), child, stop: () => stopChild(child) }
  }
  const nf = await startNodeFloor()
  setups['node-floor'] = { name: 'node-floor', origin: nf.origin, ca: prep.ca, proxy: nf, restart: startNodeFloor }

  const profileDir = opt.profile ? join(RESULTS, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : null
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const startGh = () => startGatehouse({ root: ROOT, prep, profileDir })
  const gh = await startGh()
  const probe = await probeGatehouse(gh, prep)
  log(`gatehouse on ${gh.origin}: ${Object.entries(probe.features).map(([k, v]) => `${k}=${v}`).join(' ')}`)
  for (const n of [...prep.notes, ...probe.notes]) log(`  gatehouse: ${n}`)
  if (probe.features.authEnforced && probe.credentials.length === 0) throw new Error('gatehouse enforces auth but the bench has no working credential (see the notes above)')
  setups.gatehouse = { name: 'gatehouse', origin: gh.origin, ca: prep.ca, proxy: gh, restart: startGh }

  // the same Gatehouse with masking off: the difference per chunk is what masking + re-framing costs,
  // measured side by side in the same run (no profiler: it is only a reference)
  const prepUnmasked = prepareGatehouse({ root: ROOT, dir: join(tmp, 'gatehouse-unmasked'), upstreamPort: upstream.port, log, masking: false })
  const startUnmasked = () => startGatehouse({ root: ROOT, prep: prepUnmasked, profileDir: null, name: 'gatehouse-unmasked' })
  const ghu = await startUnmasked()
  const probeU = await probeGatehouse(ghu, prepUnmasked)
  if (probeU.credentials.length > 0) {
    setups['gatehouse-unmasked'] = { name: 'gatehouse-unmasked', origin: ghu.origin, ca: prepUnmasked.ca, proxy: ghu, restart: startUnmasked, credentials: probeU.credentials }
  } else {
    notes.push('gatehouse-unmasked: no working credential, left out')
    await ghu.stop()
  }

  // the same Gatehouse in front of three hosts (the bench's upstream and two more like it), for the
  // fleet pairs: not one of the compared setups, only the other half of each pair
  const fleetHosts = [upstream, await startUpstream(), await startUpstream()]
  const prepFleet = prepareGatehouse({ root: ROOT, dir: join(tmp, 'gatehouse-fleet'), upstreamPorts: fleetHosts.map((h) => h.port), log })
  const startFleet = () => startGatehouse({ root: ROOT, prep: prepFleet, profileDir: null, name: 'gatehouse-fleet' })
  const ghf = await startFleet()
  const probeF = await probeGatehouse(ghf, prepFleet)
  let fleet = null
  if (probeF.credentials.length > 0) {
    fleet = { name: 'gatehouse-fleet', origin: ghf.origin, ca: prepFleet.ca, proxy: ghf, credentials: probeF.credentials }
    log(`gatehouse-fleet on ${ghf.origin} in front of ${fleetHosts.map((h) => h.origin).join(', ')}`)
  } else {
    notes.push('gatehouse-fleet: no working credential, fleet pairs left out')
    await ghf.stop()
  }
  /** requests naming a model that each fleet host has answered so far */
  const hostCounts = async () => Promise.all(fleetHosts.map(async (h) => {
    const r = await fetchOnce(h.origin, null, { method: 'GET', path: '/_bench/stats' })
    return JSON.parse(r.body).modelRequests
  }))

  // a phase that fails is tried once more, then left out of the medians with a note
  const attempt = async (label, fn, tries = 2) => {
    for (let i = 1; i <= tries; i++) {
      try { return await fn() } catch (err) {
        log(`  ${label} failed (try ${i}/${tries}): ${err.message.split('\n')[0]}`)
        if (i === tries) { notes.push(`${label} failed: ${err.message.split('\n')[0].slice(0, 200)}`); return null }
      }
    }
  }
  // every setup gets byte-identical requests: the same Authorization headers (API key / JWT mix)
  const credentials = probe.credentials
  const names = Object.keys(setups)
  const perRun = Object.fromEntries(names.map((n) => [n, []]))
  const jobFor = (s, job) => ({ ...job, origin: s.origin, ca: s.ca, credentials: s.credentials ?? credentials })
  const procsFor = (s) => ({ proxy: s.proxy?.proc ?? null, upstream: upstream.proc })
  const perUnit = (sec, n) => (sec === null || !n ? null : sec * 1e6 / n)

  // the machine's own speed, probed between phases: a slowed-down host shows in the results
  const probes = [await speedProbe()]
  for (const s of [...names.map((n) => setups[n]), ...(fleet ? [fleet] : [])]) {
    log(`warm-up ${s.name} (not measured)`)
    await attempt(`${s.name} warm-up`, () => measure(jobFor(s, { cmd: 'smallLoad', path: PARAMS.small.path, ...PARAMS.warmup.small, timeoutMs: 60_000 }), procsFor(s)), 1)
    await attempt(`${s.name} warm-up streams`, () => measure(jobFor(s, { cmd: 'streams', path: PARAMS.streams.path, ...PARAMS.warmup.streams, timeoutMs: 60_000 }), procsFor(s)), 1)
  }

  for (let r = 0; r < RUNS; r++) {
    // rotate the order so no setup always runs first (or right after another's load)
    const order = names.map((_, i) => names[(i + r) % names.length])
    for (const name of order) {
      const s = setups[name]
      log(`run ${r + 1}/${RUNS} ${name}: small requests, fixed rate, streams`)
      const small = await attempt(`${name} run ${r + 1} small`, () => measure(jobFor(s, { cmd: 'smallLoad', ...PARAMS.small, timeoutMs: 60_000 }), procsFor(s)))
      const rate = await attempt(`${name} run ${r + 1} rate`, () => measure(jobFor(s, { cmd: 'smallRate', ...PARAMS.rate, timeoutMs: 60_000 }), procsFor(s)))
      const streams = await attempt(`${name} run ${r + 1} streams`, () => measure(jobFor(s, { cmd: 'streams', ...PARAMS.streams, timeoutMs: 90_000 }), procsFor(s)))
      if (streams?.result.failed > 0) notes.push(`${name} run ${r + 1}: ${streams.result.failed} streams failed (${JSON.stringify(streams.result.firstFailure)})`)
      if (small?.result.failed > 0) notes.push(`${name} run ${r + 1}: ${small.result.failed} small requests failed`)
      perRun[name].push({
        small: small && {
          rps: small.result.rps, p50Ms: small.result.p50Ms, p99Ms: small.result.p99Ms,
          cpuUsPerRequest: perUnit(small.proxyCpuSec, small.result.completed),
          sysUsPerRequest: perUnit(small.proxySysSec, small.result.completed),
          upstreamCpuUsPerRequest: perUnit(small.upstreamCpuSec, small.result.completed),
          failed: small.result.failed
        },
        rate: rate && {
          rate: rate.result.rate, p50Ms: rate.result.p50Ms, p99Ms: rate.result.p99Ms,
          cpuUsPerRequest: perUnit(rate.proxyCpuSec, rate.result.completed), failed: rate.result.failed, dropped: rate.result.dropped
        },
        streams: streams && {
          ttftP50Ms: streams.result.ttft.p50Ms, ttftP99Ms: streams.result.ttft.p99Ms,
          firstTextP50Ms: streams.result.firstText.p50Ms ?? null,
          chunksPerSec: streams.result.chunksPerSec,
          cpuUsPerChunk: perUnit(streams.proxyCpuSec, streams.result.chunks),
          sysUsPerChunk: perUnit(streams.proxySysSec, streams.result.chunks),
          failed: streams.result.failed, masked: streams.result.masked
        },
        memory: null
      })
      probes.push(await speedProbe())
    }
    if (setups.gatehouse && setups['gatehouse-unmasked']) {
      const pairs = []
      for (let k = 0; k < PARAMS.maskingPairs; k++) {
        const order = (k + r) % 2 === 0 ? ['gatehouse', 'gatehouse-unmasked'] : ['gatehouse-unmasked', 'gatehouse']
        log(`run ${r + 1}/${RUNS} masking pair ${k + 1}/${PARAMS.maskingPairs}: streams on ${order.join(', then ')}`)
        const cpu = {}
        for (const name of order) {
          const s = setups[name]
          const m = await attempt(`${name} run ${r + 1} masking pair ${k + 1}`, () => measure(jobFor(s, { cmd: 'streams', ...PARAMS.streams, timeoutMs: 90_000 }), procsFor(s)), 1)
          cpu[name] = m && m.result.failed === 0 ? perUnit(m.proxyCpuSec, m.result.chunks) : null
        }
        if (typeof cpu.gatehouse === 'number' && typeof cpu['gatehouse-unmasked'] === 'number') pairs.push(cpu.gatehouse - cpu['gatehouse-unmasked'])
      }
      perRun.gatehouse[r].maskingPairsUsPerChunk = pairs
    }

    if (setups.gatehouse && fleet) {
      const pairs = []
      for (let k = 0; k < PARAMS.fleetPairs; k++) {
        const order = (k + r) % 2 === 0 ? [setups.gatehouse, fleet] : [fleet, setups.gatehouse]
        log(`run ${r + 1}/${RUNS} fleet pair ${k + 1}/${PARAMS.fleetPairs}: small requests on ${order.map((x) => x.name).join(', then ')}`)
        const pair = {}
        for (const s of order) {
          const before = s === fleet ? await hostCounts() : null
          const m = await attempt(`${s.name} run ${r + 1} fleet pair ${k + 1}`, () => measure(jobFor(s, { cmd: 'smallLoad', ...PARAMS.small, timeoutMs: 60_000 }), procsFor(s)), 1)
          const cpu = m && m.result.failed === 0 ? perUnit(m.proxyCpuSec, m.result.completed) : null
          if (s === fleet) {
            pair.threeHostsUs = cpu
            pair.perHost = (await hostCounts()).map((n, i) => n - before[i])
          } else pair.oneHostUs = cpu
        }
        if (typeof pair.oneHostUs === 'number' && typeof pair.threeHostsUs === 'number') pairs.push({ ...pair, routingUs: pair.threeHostsUs - pair.oneHostUs })
      }
      perRun.gatehouse[r].fleetPairs = pairs
    }

    // memory per open stream, on freshly started proxies
    for (const name of r < PARAMS.memory.runs ? order : []) {
      const s = setups[name]
      if (!s.proxy) continue
      log(`run ${r + 1}/${RUNS} ${name}: ${PARAMS.memory.count} open streams (fresh process)`)
      await s.proxy.stop()
      s.proxy = await s.restart()
      s.origin = s.proxy.origin
      let releaser = null
      const m = await attempt(`${name} run ${r + 1} memory`, () => measure(jobFor(s, { cmd: 'hold', ...PARAMS.memory, timeoutMs: 300_000 }), procsFor(s), {
        onOpened: async (msg) => {
          await sleep(PARAMS.memory.settleMs)
          const rssOpenKiB = s.proxy.proc.rssKiB()
          const release = () => fetchOnce(upstream.origin, null, { method: 'POST', path: '/_bench/release' }).catch(() => {})
          await release()
          releaser = setInterval(release, 500) // streams that reached the upstream late are released too
          return { rssOpenKiB, open: msg.open, timedOut: msg.timedOut }
        }
      }).finally(() => clearInterval(releaser)), 1)
      if (!m) continue
      const open = m.opened?.open ?? 0
      perRun[name][r].memory = {
        streams: open,
        rssBeforeKiB: m.proxyRssStartKiB,
        rssOpenKiB: m.opened?.rssOpenKiB ?? null,
        perStreamKiB: open > 0 && m.opened ? (m.opened.rssOpenKiB - m.proxyRssStartKiB) / open : null,
        completed: m.result.ok
      }
      if (m.opened?.timedOut || open < PARAMS.memory.count) notes.push(`${name} run ${r + 1}: only ${open}/${PARAMS.memory.count} streams opened`)
      if (m.result.ok < open) notes.push(`${name} run ${r + 1}: ${open - m.result.ok} held streams did not complete`)
    }
  }

  const micro = opt['no-micro'] ? {} : await runMicro({ root: ROOT, log })

  let profile = null
  if (profileDir) {
    await setups.gatehouse.proxy.stop()
    profile = summarizeProfiles(profileDir, join(RESULTS, 'profile-gatehouse.txt'), ROOT)
    log(profile ? `profile summary: ${profile.summaryFile}` : 'no CPU profile was written (gatehouse did not exit cleanly)')
  }

  const medians = Object.fromEntries(names.map((n) => [n, medianOf(perRun[n])]))
  const results = buildResults({
    machine: machineInfo(nginxInfo.version),
    runs: RUNS,
    quick,
    params: PARAMS,
    perRun,
    medians,
    gatehouse: { features: probe.features, credentials: credentials.length, notes: [...prep.notes, ...probe.notes] },
    nginx: nginxInfo,
    micro,
    profile,
    speed: summarizeProbes(probes),
    notes,
    durationSeconds: Math.round((Date.now() - t0) / 1000),
    helpers: { median, round }
  })
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(results, null, 2) + '\n')
  writeFileSync(join(RESULTS, 'latest.md'), renderMarkdown(results))
  process.stdout.write(renderTable(results))
  log(`wrote bench/results/latest.json and bench/results/latest.md (${results.durationSeconds} s)`)
}

main().then(
  () => cleanup().then(() => { clearTimeout(watchdog); process.exit(0) }),
  (err) => { log(`bench failed: ${err.stack ?? err}`); cleanup().then(() => process.exit(1)) }
)
