// Micro-benchmark of the fleet's routing (target: ≤ 5 µs CPU per request more with 3 hosts than with
// one). Run after `npm run build`:  node bench/micro/fleet-routing.bench.mjs [--json]
// Each request is what the gateway does per proxied request: select a host for its model (loaded
// first, least busy, ties in turn), take a slot, and give it back. Prints µs per request for 1 and 3
// hosts and how 30,000 requests with 4 in flight spread over the 3 hosts.
import { canonicalSet, newHostState } from '../../dist/fleet/host-state.js'
import { rotatingTieBreaker, selectHost } from '../../dist/fleet/select.js'
import { createFleet } from '../../dist/fleet/fleet.js'

const json = process.argv.includes('--json')
const NOW = Date.now()
const MODELS = ['llama3.2:latest', 'qwen2.5:7b', 'mistral:7b', 'nomic-embed-text:latest']

function fleet (n) {
  return Array.from({ length: n }, (_, i) => {
    const h = newHostState(`gpu-${i}`, `http://10.0.0.${i + 1}:11434`, 8)
    h.models = canonicalSet(MODELS)
    h.loaded = canonicalSet(MODELS.slice(0, 2))
    return h
  })
}

/** µs of CPU per request, `inFlight` requests held at once (a ring of leases). */
function perRequest (hosts, requests, inFlight = 4) {
  const ties = rotatingTieBreaker()
  const ring = []
  const t0 = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    const s = selectHost(hosts, MODELS[i % 2], NOW, ties)
    if (s.kind !== 'host') throw new Error(`no host: ${s.kind}`)
    s.host.inFlight++
    ring.push(s.host)
    if (ring.length > inFlight) ring.shift().inFlight--
  }
  const cpu = process.cpuUsage(t0)
  for (const h of ring) h.inFlight--
  return (cpu.user + cpu.system) / requests
}

function spread (hosts, requests, inFlight = 4) {
  const ties = rotatingTieBreaker()
  const counts = Object.fromEntries(hosts.map((h) => [h.name, 0]))
  const ring = []
  for (let i = 0; i < requests; i++) {
    const s = selectHost(hosts, MODELS[0], NOW, ties)
    counts[s.host.name]++
    s.host.inFlight++
    ring.push(s.host)
    if (ring.length > inFlight) ring.shift().inFlight--
  }
  return counts
}

/** The gateway's own path: fleet.acquire (async) for the request's model, then the lease's release. */
async function perLease (n, requests) {
  const f = createFleet({
    hosts: Array.from({ length: n }, (_, i) => ({ name: `gpu-${i}`, url: `http://10.0.0.${i + 1}:11434`, maxConcurrent: 8 })),
    connectTimeoutMs: 1000, headersTimeoutMs: 1000, idleTimeoutMs: 1000,
    discoveryIntervalMs: 3_600_000, healthIntervalMs: 3_600_000, failuresToEject: 3, cooldownMs: 30_000, queueTimeoutMs: 1000
  }, { now: () => NOW })
  for (const h of f.hosts) { h.models = canonicalSet(MODELS); h.loaded = canonicalSet(MODELS.slice(0, 2)) }
  const t0 = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    const got = await f.acquire(MODELS[i % 2])
    if (got.kind !== 'lease') throw new Error(got.kind)
    got.lease.release('success')
  }
  const cpu = process.cpuUsage(t0)
  await f.close()
  return (cpu.user + cpu.system) / requests
}

const ROUNDS = 5
const N = 200_000
const one = fleet(1)
const three = fleet(3)
perRequest(one, N) // warm up
perRequest(three, N)
const oneUs = []
const threeUs = []
for (let r = 0; r < ROUNDS; r++) { oneUs.push(perRequest(one, N)); threeUs.push(perRequest(three, N)) }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
await perLease(1, 50_000) // warm up
const leaseOne = []
const leaseThree = []
for (let r = 0; r < ROUNDS; r++) { leaseOne.push(await perLease(1, 50_000)); leaseThree.push(await perLease(3, 50_000)) }
const result = {
  summary: {
    'µs per request, 1 host': Number(median(oneUs).toFixed(3)),
    'µs per request, 3 hosts': Number(median(threeUs).toFixed(3)),
    'µs added by 3 hosts': Number((median(threeUs) - median(oneUs)).toFixed(3)),
    'µs per lease (acquire + release), 1 host': Number(median(leaseOne).toFixed(3)),
    'µs per lease (acquire + release), 3 hosts': Number(median(leaseThree).toFixed(3))
  },
  spread: spread(fleet(3), 30_000)
}
if (json) console.log(JSON.stringify(result))
else {
  for (const [k, v] of Object.entries(result.summary)) console.log(`${k}: ${v}`)
  console.log(`spread of 30000 requests over 3 hosts: ${JSON.stringify(result.spread)}`)
}
