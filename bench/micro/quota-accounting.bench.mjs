// Micro-benchmark of token quotas and usage accounting (target: ≤ 10 µs CPU per request added).
// Run after `npm run build`:  node bench/micro/quota-accounting.bench.mjs [--json]
// One request = the quota stage checking the identity's day and month totals (quotas on), then,
// when the reply ends, the meter building the usage record, handing it to the batching writer and
// adding the tokens to both totals. Counters are the in-memory backend, so this is the gateway's
// own CPU; a Redis or database round trip comes on top, off the CPU. Quotas off = neither runs.
import { EventEmitter } from 'node:events'
import { createQuotaGuard, createUsageMeter } from '../../dist/quotas/index.js'
import { sharedStateFromOps } from '../../dist/cluster-state/from-ops.js'
import { createMemoryOps } from '../../dist/cluster-state/memory.js'
import { newRequestContext } from '../../dist/pipeline/context.js'

const json = process.argv.includes('--json')
const clock = { now: () => Date.now() }
const counters = sharedStateFromOps('memory', createMemoryOps(), { clock, prefix: 'bench:', sweepEvery: 1000 })
let written = 0
const meter = createUsageMeter({ counters, writer: { add: () => { written++ } }, clock })
const guard = createQuotaGuard({
  counters, clock, meter,
  rules: [{ role: 'user', tokensPerDay: 1e12, tokensPerMonth: 1e13 }, { user: 'app', tokensPerDay: 1e12 }]
})

function request () {
  const gh = newRequestContext('r', '127.0.0.1')
  gh.identity = { credential: 'api_key', name: 'app', roles: ['user'], amr: [], credentialId: 'k', expiresAt: null }
  gh.route = { permission: 'inference', id: 'POST /api/chat' }
  gh.models = ['llama3.2:latest']
  gh.upstream = 'default'
  gh.usage = { input: 26, output: 311 }
  const raw = Object.assign(new EventEmitter(), { closed: false, statusCode: 200, writableFinished: true })
  return { request: { gh, log: { error () {} } }, reply: { raw, header () { return this } } }
}

/** µs of CPU per request: the stage, then the reply's end, with the accounting it sets off settled */
async function perRequest (n, quotas) {
  const t0 = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const { request: req, reply } = request()
    if (quotas) await guard(req, reply)
    reply.raw.closed = true
    reply.raw.emit('close')
    await new Promise((resolve) => setImmediate(resolve))
  }
  const cpu = process.cpuUsage(t0)
  return (cpu.user + cpu.system) / n
}

const N = 20_000
const ROUNDS = 5
await perRequest(N, true) // warm up
await perRequest(N, false)
const on = []
const off = []
for (let r = 0; r < ROUNDS; r++) { on.push(await perRequest(N, true)); off.push(await perRequest(N, false)) }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const result = {
  summary: {
    'µs per request, quotas on': Number(median(on).toFixed(2)),
    'µs per request, quotas off': Number(median(off).toFixed(2)),
    'µs added by quotas and accounting': Number((median(on) - median(off)).toFixed(2))
  },
  recordsWritten: written
}
if (json) console.log(JSON.stringify(result))
else for (const [k, v] of Object.entries(result.summary)) console.log(`${k}: ${v}`)
