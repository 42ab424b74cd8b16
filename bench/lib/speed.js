// How fast this machine is right now, on three fixed workloads: pure computation, system calls
// (1-byte writes to /dev/null) and loopback TCP round trips. A shared VM's speed moves with its
// neighbours' load, and not evenly: a proxy's per-request cost is mostly system calls and socket
// work, which can slow down while computation does not. The bench probes between phases (while
// nothing else of its own runs), so a run measured on a slowed-down machine shows as such.
import { closeSync, openSync, writeSync } from 'node:fs'
import net from 'node:net'
import { median } from './stats.js'

const elapsedMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6

function cpu () {
  const t0 = process.hrtime.bigint()
  let x = 0
  for (let i = 0; i < 3_000_000; i++) x = (x + i * 2654435761) % 1000003
  if (x < 0) throw new Error('unreachable')
  return elapsedMs(t0)
}

function syscalls () {
  const fd = openSync('/dev/null', 'w')
  const one = Buffer.from('x')
  const t0 = process.hrtime.bigint()
  try {
    for (let i = 0; i < 20_000; i++) writeSync(fd, one)
    return elapsedMs(t0)
  } finally { closeSync(fd) }
}

async function loopback (roundTrips = 2000) {
  const server = net.createServer((s) => s.on('data', (d) => s.write(d)))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = net.connect(server.address().port, '127.0.0.1')
  try {
    await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject) })
    client.setNoDelay(true)
    const t0 = process.hrtime.bigint()
    let n = 0
    await new Promise((resolve) => {
      client.on('data', () => { if (++n === roundTrips) resolve(); else client.write('x') })
      client.write('x')
    })
    return elapsedMs(t0)
  } finally {
    client.destroy()
    server.close()
  }
}

/** each workload's time in ms: the fastest of 3 tries (noise only ever adds) */
export async function speedProbe () {
  const best = async (f) => { let b = Infinity; for (let i = 0; i < 3; i++) b = Math.min(b, await f()); return b }
  return { cpuMs: await best(cpu), syscallsMs: await best(syscalls), loopbackMs: await best(loopback) }
}

/** per workload: median, range and spread (slowest ÷ fastest); noisy when any spread exceeds the bound */
export function summarizeProbes (samples, noisyAbove = 1.25) {
  if (samples.length === 0) return null
  const out = { noisy: false, samples: samples.length }
  for (const k of Object.keys(samples[0])) {
    const xs = samples.map((s) => s[k])
    const min = Math.min(...xs)
    const max = Math.max(...xs)
    out[k] = { median: Number(median(xs).toFixed(1)), min: Number(min.toFixed(1)), max: Number(max.toFixed(1)), spread: Number((max / min).toFixed(2)) }
    if (max / min > noisyAbove) out.noisy = true
  }
  return out
}
