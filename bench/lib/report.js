// Results: the derived figures and targets (latest.json), a table for the terminal and a markdown
// table for the README (latest.md).
import os from 'node:os'
import { median, fmt, round } from './stats.js'

export function machineInfo (nginxVersion) {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    model: cpus[0]?.model?.trim() ?? 'unknown',
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    memoryBytes: os.totalmem(),
    node: process.version,
    nginx: nginxVersion,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvgAtEnd: os.loadavg().map((x) => round(x, 2))
  }
}

const TARGETS = {
  gatehouseCpuRatioVsNodeFloor: { target: 1.5, unit: '×', label: 'CPU per request, Gatehouse ÷ a bare Node.js TLS proxy (node-floor)' },
  gatehouseChunkCpuRatioVsNodeFloor: { target: 1.3, unit: '×', label: 'CPU per streamed chunk with masking, Gatehouse ÷ node-floor' },
  cpuPerRequestRatioVsNginx: { target: 3, unit: '×', label: 'CPU per authenticated request vs nginx TLS proxying' },
  addedLatencyP50Ms: { target: 1, unit: 'ms', label: 'added p50 latency at 200 req/s' },
  addedLatencyP99Ms: { target: 5, unit: 'ms', label: 'added p99 latency at 200 req/s' },
  addedTtftMs: { target: 1, unit: 'ms', label: 'added time to first token' },
  maskingUsPerChunk: { target: 10, unit: 'µs', label: 'CPU per streamed chunk for masking + re-framing' },
  memoryPerStreamKiB: { target: 32, unit: 'KiB', label: 'memory per open stream (at the streams held, see below)' },
  fleetRoutingUsPerRequest: { target: 5, unit: 'µs', label: 'CPU per request added by routing over 3 hosts vs 1' }
}

/** median over runs of f(run index), where f may return null */
function perRunMedian (runs, f) {
  const vals = []
  for (let i = 0; i < runs; i++) { const v = f(i); if (typeof v === 'number' && Number.isFinite(v)) vals.push(v) }
  return median(vals)
}

function added (perRun, runs, setup, pick) {
  if (!perRun[setup] || !perRun.direct) return null
  return perRunMedian(runs, (i) => {
    const a = pick(perRun[setup][i]); const b = pick(perRun.direct[i])
    return typeof a === 'number' && typeof b === 'number' ? a - b : null
  })
}

export function buildResults (o) {
  const { perRun, runs, medians } = o
  const ratioOf = (a, b, phase = 'small', field = 'cpuUsPerRequest') => perRunMedian(runs, (i) => {
    const x = perRun[a]?.[i]?.[phase]?.[field]; const y = perRun[b]?.[i]?.[phase]?.[field]
    return x && y ? x / y : null
  })
  const ratio = (setup) => ratioOf(setup, 'nginx')
  const derivedFor = (setup) => ({
    addedLatencyP50Ms: added(perRun, runs, setup, (r) => r?.rate?.p50Ms),
    addedLatencyP99Ms: added(perRun, runs, setup, (r) => r?.rate?.p99Ms),
    addedTtftMs: added(perRun, runs, setup, (r) => r?.streams?.ttftP50Ms),
    // the first non-empty model text rather than the first byte: masking holds back a word that
    // could still grow into an entity until the next chunk shows where it ends
    addedFirstTextMs: added(perRun, runs, setup, (r) => r?.streams?.firstTextP50Ms),
    cpuUsPerChunk: medians[setup]?.streams?.cpuUsPerChunk ?? null,
    memoryPerStreamKiB: medians[setup]?.memory?.perStreamKiB ?? null
  })
  const gh = derivedFor('gatehouse')
  const unpairedMasking = perRun['gatehouse-unmasked']
    ? perRunMedian(runs, (i) => {
      const g = perRun.gatehouse?.[i]?.streams?.cpuUsPerChunk; const u = perRun['gatehouse-unmasked'][i]?.streams?.cpuUsPerChunk
      return typeof g === 'number' && typeof u === 'number' ? g - u : null
    })
    : null
  // the back-to-back pairs of every run (see PARAMS.maskingPairs in run.js)
  const maskingPairs = (perRun.gatehouse ?? []).flatMap((x) => x?.maskingPairsUsPerChunk ?? [])
  // the back-to-back pairs of one host and three (see PARAMS.fleetPairs in run.js)
  const fleetPairs = (perRun.gatehouse ?? []).flatMap((x) => x?.fleetPairs ?? [])
  const values = {
    cpuPerRequestRatioVsNginx: perRun.nginx ? ratio('gatehouse') : null,
    addedLatencyP50Ms: gh.addedLatencyP50Ms,
    addedLatencyP99Ms: gh.addedLatencyP99Ms,
    addedTtftMs: gh.addedTtftMs,
    addedFirstTextMs: gh.addedFirstTextMs,
    // masking + re-framing = Gatehouse's CPU per chunk with masking on minus the same Gatehouse with
    // masking off, side by side in each run; else beyond a bare Node.js pass-through; else all-in
    maskingUsPerChunk: maskingPairs.length > 0
      ? median(maskingPairs)
      : perRun['gatehouse-unmasked']
        ? unpairedMasking
        : perRun['node-floor']
        ? perRunMedian(runs, (i) => {
          const g = perRun.gatehouse?.[i]?.streams?.cpuUsPerChunk; const n = perRun['node-floor'][i]?.streams?.cpuUsPerChunk
          return typeof g === 'number' && typeof n === 'number' ? g - n : null
        })
        : gh.cpuUsPerChunk,
    memoryPerStreamKiB: gh.memoryPerStreamKiB,
    gatehouseCpuRatioVsNodeFloor: perRun['node-floor'] ? ratioOf('gatehouse', 'node-floor') : null,
    gatehouseChunkCpuRatioVsNodeFloor: perRun['node-floor'] ? ratioOf('gatehouse', 'node-floor', 'streams', 'cpuUsPerChunk') : null,
    fleetRoutingUsPerRequest: fleetPairs.length > 0 ? median(fleetPairs.map((p) => p.routingUs)) : null
  }
  const targets = {}
  for (const [k, t] of Object.entries(TARGETS)) {
    const v = values[k]
    targets[k] = { target: `<= ${t.target} ${t.unit}`, value: round(v, 3), met: v === null ? null : v <= t.target }
  }
  const f = o.gatehouse.features
  const missing = ['auth', 'apiKey', 'jwt', 'rbac', 'masking', 'audit'].filter((k) => !f[k])
  // measured without some protections: the figures do not tell whether the real thing meets its targets
  if (missing.length) for (const t of Object.values(targets)) t.provisional = true
  const roundDeep = (x) => (typeof x === 'number' ? round(x, 3) : Array.isArray(x) ? x.map(roundDeep) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, roundDeep(v)])) : x)
  return {
    machine: o.machine,
    date: new Date().toISOString(),
    runs,
    quick: o.quick,
    durationSeconds: o.durationSeconds,
    auth: f.auth,
    gatehouseFeatures: f,
    complete: missing.length === 0,
    missingFeatures: missing,
    ...roundDeep(values),
    maskingUsPerChunkBasis: maskingPairs.length > 0
      ? `gatehouse − gatehouse with masking off, CPU per chunk, median of ${maskingPairs.length} back-to-back pair${maskingPairs.length === 1 ? "" : "s"}`
      : perRun['gatehouse-unmasked']
        ? 'gatehouse − gatehouse with masking off, CPU per chunk'
        : perRun['node-floor'] ? 'gatehouse − node-floor CPU per chunk' : 'gatehouse CPU per chunk, all-in',
    maskingUsPerChunkPairs: maskingPairs.map((x) => round(x, 3)),
    fleet: fleetPairs.length > 0
      ? {
          pairs: roundDeep(fleetPairs),
          oneHostCpuUsPerRequest: round(median(fleetPairs.map((p) => p.oneHostUs)), 3),
          threeHostsCpuUsPerRequest: round(median(fleetPairs.map((p) => p.threeHostsUs)), 3),
          // requests per host summed over the pairs; the largest share's distance from an even third
          perHost: fleetPairs.reduce((sum, p) => sum.map((n, i) => n + (p.perHost?.[i] ?? 0)), [0, 0, 0]),
          spreadMaxDeviationPct: spreadDeviation(fleetPairs)
        }
      : null,
    // the same difference from the streams phases of the main loop, which run further apart
    maskingUsPerChunkUnpaired: round(unpairedMasking, 3),
    gatehouseCpuUsPerChunk: round(gh.cpuUsPerChunk, 3),
    targets,
    setups: roundDeep(medians),
    reference: {
      nginx: perRun.nginx ? roundDeep(derivedFor('nginx')) : null,
      nodeFloor: perRun['node-floor'] ? roundDeep(derivedFor('node-floor')) : null,
      // the ratio split in two: what Node.js costs over nginx, and what Gatehouse's own work costs over bare Node
      nodeFloorCpuRatioVsNginx: perRun.nginx && perRun['node-floor'] ? round(ratioOf('node-floor', 'nginx'), 3) : null,
      gatehouseCpuRatioVsNodeFloor: perRun['node-floor'] ? round(ratioOf('gatehouse', 'node-floor'), 3) : null,
      gatehouseChunkCpuRatioVsNodeFloor: perRun['node-floor'] ? round(ratioOf('gatehouse', 'node-floor', 'streams', 'cpuUsPerChunk'), 3) : null
    },
    micro: o.micro,
    profile: o.profile,
    // a fixed single-threaded workload timed between phases; spread = slowest ÷ fastest
    speedProbe: o.speed ?? null,
    params: o.params,
    perRun: roundDeep(perRun),
    notes: [...o.gatehouse.notes, ...o.notes]
  }
}

/** how far the busiest or idlest host is from an even share, in percent of that share */
function spreadDeviation (pairs) {
  const perHost = pairs.reduce((sum, p) => sum.map((n, i) => n + (p.perHost?.[i] ?? 0)), [0, 0, 0])
  const total = perHost.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const even = total / perHost.length
  return round(Math.max(...perHost.map((n) => Math.abs(n - even))) / even * 100, 2)
}

function table (header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const SETUP_HEADER = ['setup', 'req/s', 'p50 ms', 'p99 ms', `p50 ms @rate`, 'p99 ms @rate', 'CPU µs/req', 'TTFT p50 ms', 'CPU µs/chunk', 'KiB/stream']
function setupRows (res) {
  return Object.entries(res.setups).map(([name, s]) => [
    name, fmt(s.small?.rps, 0), fmt(s.small?.p50Ms), fmt(s.small?.p99Ms), fmt(s.rate?.p50Ms), fmt(s.rate?.p99Ms),
    fmt(s.small?.cpuUsPerRequest, 0), fmt(s.streams?.ttftP50Ms), fmt(s.streams?.cpuUsPerChunk, 1), fmt(s.memory?.perStreamKiB, 1)
  ])
}
function targetRows (res) {
  return Object.entries(TARGETS).filter(([k]) => res.targets[k]).map(([k, t]) => {
    const r = res.targets[k]
    const status = r.met === null ? 'n/a' : r.met ? 'met' : 'NOT met'
    const label = k === 'memoryPerStreamKiB' ? `memory per open stream (${res.params.memory.count.toLocaleString('en')} held)` : t.label
    return [label, `≤ ${t.target} ${t.unit}`, r.value === null ? '–' : `${fmt(r.value)} ${t.unit}`, r.provisional ? `${status} (provisional)` : status]
  })
}
function microRows (res) {
  const rows = []
  for (const [name, m] of Object.entries(res.micro ?? {})) {
    if (m && m.error) { rows.push([name, `error: ${m.error}`]); continue }
    for (const [k, v] of Object.entries(m?.summary ?? {})) rows.push([`${name}: ${k}`, typeof v === 'number' ? fmt(v, 2) : String(v)])
  }
  return rows
}

/** the CPU ratio split into what Node.js costs and what Gatehouse's own work costs */
function splitLine (res) {
  const r = res.reference
  if (r.nodeFloorCpuRatioVsNginx === null && r.gatehouseCpuRatioVsNodeFloor === null) return null
  return `CPU per request, split: bare Node.js TLS proxy (node-floor) ÷ nginx = ${fmt(r.nodeFloorCpuRatioVsNginx)}×; ` +
    `Gatehouse ÷ node-floor = ${fmt(r.gatehouseCpuRatioVsNodeFloor)}× per request, ${fmt(r.gatehouseChunkCpuRatioVsNodeFloor)}× per streamed chunk.`
}

/** time to the first visible text, beside time to the first byte (the TTFT target's figure) */
function firstTextLine (res) {
  const rows = Object.entries(res.setups).filter(([, x]) => typeof x?.streams?.firstTextP50Ms === 'number')
  if (rows.length === 0) return null
  return `Time to the first non-empty model text, p50: ${rows.map(([n, x]) => `${n} ${fmt(x.streams.firstTextP50Ms)} ms`).join(', ')} ` +
    `(TTFT above is the first byte). With masking, a word that could still grow into an entity is held until the next chunk shows where it ends: ` +
    `up to one upstream chunk interval (${res.params.streams.delayMs} ms here).`
}

/** how the masking figure was measured, with the pairs it is the median of */
function maskingLine (res) {
  if (!res.maskingUsPerChunkPairs?.length) return null
  return `Masking + re-framing per chunk: ${res.maskingUsPerChunkBasis} (${res.maskingUsPerChunkPairs.map((x) => fmt(x, 1)).join(' · ')} µs); ` +
    `from the main loop's streams phases, further apart: ${fmt(res.maskingUsPerChunkUnpaired, 1)} µs.`
}

/** the fleet pairs: CPU per request in front of one host and of three, and how requests spread */
function fleetLine (res) {
  const f = res.fleet
  if (!f) return null
  return `Fleet routing: Gatehouse in front of 3 hosts ${fmt(f.threeHostsCpuUsPerRequest, 1)} µs CPU per request, in front of 1 host ` +
    `${fmt(f.oneHostCpuUsPerRequest, 1)} µs (back-to-back pairs: ${f.pairs.map((p) => fmt(p.routingUs, 1)).join(' · ')} µs); ` +
    `requests per host ${f.perHost.join(' / ')} (largest distance from an even share ${fmt(f.spreadMaxDeviationPct, 2)} %).`
}

/** a warning when the machine's own speed moved during the run (another tenant's load) */
function speedLine (res) {
  const p = res.speedProbe
  if (!p) return null
  const part = (label, x) => `${label} ${x.median} ms (${x.min}–${x.max})`
  const base = `Machine speed probes between phases (fixed work, lower is faster): ${part('computation', p.cpuMs)}, ` +
    `${part('20k system calls', p.syscallsMs)}, ${part('2k loopback TCP round trips', p.loopbackMs)}`
  if (!p.noisy) return `${base}: steady.`
  const worst = Math.max(p.cpuMs.spread, p.syscallsMs.spread, p.loopbackMs.spread)
  return `${base}: **the machine slowed down by up to ${Math.round((worst - 1) * 100)} % during this run** (load from outside the bench). ` +
    'Ratios are computed within each run and hold up better; absolute latencies and req/s do not — rerun on a quieter machine before comparing them.'
}

/** the lines under the target table, in markdown (the terminal drops the bold) */
function findingLines (res) {
  return [splitLine(res), maskingLine(res), fleetLine(res), firstTextLine(res), speedLine(res)].filter((l) => l !== null)
}

function caption (res) {
  const m = res.machine
  return `${m.cpus} × ${m.model}, ${m.memory}, ${m.os}, Node ${m.node}, nginx ${m.nginx ?? 'not measured'}; ` +
    `${res.date.slice(0, 10)}, median of ${res.runs} run(s)${res.quick ? ' (quick)' : ''}, load average ${m.loadAvgAtEnd?.[1] ?? '?'} (5 min) at the end`
}

export function renderTable (res) {
  const out = ['', `Gatehouse bench — ${caption(res)}`, '']
  out.push(table(SETUP_HEADER, setupRows(res)), '')
  out.push(`small: ${res.params.small.path} at concurrency ${res.params.small.concurrency}; @rate: ${res.params.rate.rate} req/s; ` +
    `streams: ${res.params.streams.concurrency} × ${res.params.streams.chunks} chunks, ${res.params.streams.delayMs} ms apart; memory: ${res.params.memory.count} open streams`, '')
  out.push(table(['target', 'goal', 'value', ''], targetRows(res)), '')
  for (const line of findingLines(res)) out.push(line.replace(/\*\*/g, ''), '')
  const micro = microRows(res)
  if (micro.length) out.push(table(['micro', 'value'], micro), '')
  if (res.profile) out.push(`NOTE: Gatehouse ran under --cpu-prof (slower); profile summary in ${res.profile.summaryFile}`, '')
  if (!res.complete) out.push(`NOTE: Gatehouse was measured without: ${res.missingFeatures.join(', ')} (not available or not wired yet)`, '')
  for (const n of res.notes) out.push(`note: ${n}`)
  return out.join('\n') + '\n'
}

const mdRow = (r) => `| ${r.join(' | ')} |`
export function renderMarkdown (res) {
  const out = [`Measured on ${caption(res)}.`, '']
  out.push(mdRow(SETUP_HEADER), mdRow(SETUP_HEADER.map((_, i) => (i === 0 ? '---' : '---:'))), ...setupRows(res).map(mdRow), '')
  const hdr = ['target', 'goal', 'value', '']
  out.push(mdRow(hdr), mdRow(['---', '---:', '---:', '---']), ...targetRows(res).map(mdRow), '')
  for (const line of findingLines(res)) out.push(line, '')
  const micro = microRows(res)
  if (micro.length) out.push(mdRow(['micro-benchmark', 'value']), mdRow(['---', '---:']), ...micro.map(mdRow), '')
  out.push(`Small requests: \`${res.params.small.path}\` at concurrency ${res.params.small.concurrency} (req/s, latency, CPU) and at a fixed ` +
    `${res.params.rate.rate} req/s (added latency); streams: ${res.params.streams.concurrency} concurrent \`/api/chat\` streams of ` +
    `${res.params.streams.chunks} chunks; memory: ${res.params.memory.count} streams held open. CPU from \`/proc/<pid>/stat\` of the proxy ` +
    'process only. Method: [docs/benchmarks.md](docs/benchmarks.md).')
  if (res.profile) out.push('', '**Gatehouse ran under the CPU profiler in this run: its figures are slower than normal.**')
  if (!res.complete) out.push('', `Gatehouse was measured **without: ${res.missingFeatures.join(', ')}** (not available when this ran).`)
  if (res.notes.length) out.push('', 'Notes:', '', ...res.notes.map((n) => `- ${n}`))
  return out.join('\n') + '\n'
}
