#!/usr/bin/env node
// Two (or more) checkouts of Gatehouse side by side on one fake upstream: the same load on each in
// turn, the order alternating round by round, so the machine's drift falls on both alike. Prints the
// proxy's CPU per streamed chunk (or per small request) for each checkout, round by round and the
// median. Each checkout must be built (`npm run build` in it). Used to measure one change: the
// checkout before it against the one after it.
//
//   node bench/compare.js [--rounds 4] [--small] [--unmasked] [--streams 100] [--profile DIR] ROOT_A ROOT_B …
//
// --small measures POST /api/show at concurrency 32 (as the bench's small requests) instead of 100
// concurrent /api/chat streams of 300 chunks; --unmasked adds each checkout with masking off;
// --profile runs each Gatehouse under --cpu-prof, its profile in DIR (for bench/lib/profile.js).
// --streams sets how many streams run at once (default 100); with few, the proxy is not saturated
// and the time to first byte (printed for streams) is the proxy's own, not a queue's.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnTracked, stopAll, waitForLine } from './lib/children.js'
import { tree } from './lib/proc.js'
import { prepareGatehouse, probeGatehouse, startGatehouse } from './lib/gatehouse.js'
import { measure } from './lib/measure.js'
import { median } from './lib/stats.js'

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string' }, small: { type: 'boolean' }, unmasked: { type: 'boolean' }, streams: { type: 'string' }, profile: { type: 'string' } }
})
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/compare.js [--rounds N] [--small] [--unmasked] [--streams N] [--profile DIR] ROOT_A ROOT_B …\n')
  process.exit(2)
}
const roots = positionals.map((r) => resolve(r))
const rounds = Math.max(1, Math.min(20, Number(opt.rounds ?? 4) || 4))
const log = (s) => process.stderr.write(s + '\n')
const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-compare-'))

const job = opt.small
  ? { cmd: 'smallLoad', path: 'POST /api/show', concurrency: 32, warmupMs: 1000, durationMs: 3000, timeoutMs: 60_000 }
  : { cmd: 'streams', path: 'POST /api/chat', concurrency: Math.max(1, Math.min(1000, Number(opt.streams ?? 100) || 100)), chunks: 300, delayMs: 10, staggerMs: 1000, timeoutMs: 90_000 }
const unit = opt.small ? 'request' : 'chunk'
/** what the CPU is divided by: requests completed, or chunks received */
const countOf = (result) => opt.small ? result.completed : result.chunks

try {
  const up = spawnTracked('upstream', process.execPath, [join(roots[0], 'bench/lib/upstream.js')])
  const port = await waitForLine(up, [up.stdout], (l) => { try { return JSON.parse(l).port } catch { return null } }, 10_000, 'fake upstream')
  const upstream = tree(up.pid)

  const setups = []
  for (const [i, root] of roots.entries()) {
    for (const masking of opt.unmasked ? [true, false] : [true]) {
      const name = `${root}${masking ? '' : ' (masking off)'}`
      const prep = prepareGatehouse({ root, dir: join(tmp, `${i}-${masking}`), upstreamPort: port, log, masking })
      const profileDir = opt.profile ? join(resolve(opt.profile), `${i}-${masking ? 'masked' : 'unmasked'}`) : null
      if (profileDir) mkdirSync(profileDir, { recursive: true })
      const gh = await startGatehouse({ root, prep, profileDir, name: `gatehouse-${i}` })
      const probe = await probeGatehouse(gh, prep)
      if (probe.credentials.length === 0) throw new Error(`${name}: no working credential (${probe.notes.join('; ')})`)
      setups.push({ name, gh, prep, credentials: probe.credentials, perUnit: [], ttft: [] })
    }
  }
  const run = (s) => measure({ ...job, origin: s.gh.origin, ca: s.prep.ca, credentials: s.credentials }, { proxy: s.gh.proc, upstream })
  for (const s of setups) await run(s) // warm-up, not counted
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? setups : [...setups].reverse()) {
      const m = await run(s)
      const us = 1e6 * m.proxyCpuSec / countOf(m.result)
      s.perUnit.push(us)
      const ttft = m.result.ttft?.p50Ms
      if (ttft != null) s.ttft.push(ttft)
      log(`round ${r + 1}/${rounds} ${s.name}: ${us.toFixed(1)} µs CPU per ${unit}${ttft != null ? `, first byte p50 ${ttft.toFixed(2)} ms` : ''}`)
    }
  }
  for (const s of setups) {
    process.stdout.write(`${s.name}: median ${median(s.perUnit).toFixed(1)} µs CPU per ${unit} (${s.perUnit.map((v) => v.toFixed(1)).join(' · ')})` +
      (s.ttft.length > 0 ? `; first byte p50, median ${median(s.ttft).toFixed(2)} ms (${s.ttft.map((v) => v.toFixed(2)).join(' · ')})` : '') + '\n')
  }
} finally {
  await stopAll(opt.profile ? 15_000 : 3000)
  rmSync(tmp, { recursive: true, force: true })
}
process.exit(0)
