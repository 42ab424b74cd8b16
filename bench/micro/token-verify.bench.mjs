// Micro-benchmark: what checking a credential costs per request, from dist/ (npm run build).
// - access token (JWT) verification: uncached (signature + claims, each token seen once) and
//   cached (the same token again: the service's verified-token cache), for Ed25519 and P-256;
// - API key: shape check + SHA-256 (the store lookup by hash is not included).
// `--json` prints one JSON object as the last stdout line (the contract of bench/run.js).
import { generateKeyPairSync } from 'node:crypto'
import { createTokenService } from '../../dist/auth/tokens.js'
import { generateApiKey, hashApiKey, isWellFormedApiKey } from '../../dist/auth/api-keys.js'
import { systemClock } from '../../dist/clock.js'

const json = process.argv.includes('--json')
const now = () => Number(process.hrtime.bigint()) / 1e3 // µs

async function timeIt (n, fn) {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i) // warm-up
  const t0 = now()
  for (let i = 0; i < n; i++) await fn(i)
  return (now() - t0) / n
}

async function tokens (kind) {
  const { privateKey, publicKey } = kind === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const N = 2000
  const svc = createTokenService({ privateKey, publicKey, kid: 'bench', issuer: 'gatehouse', audience: 'gatehouse', clock: systemClock, cacheSize: 10 * N })
  const exp = Math.floor(Date.now() / 1000) + 3600
  const issued = []
  const t0 = now()
  for (let i = 0; i < N + 200; i++) issued.push((await svc.issueAccess({ sub: `user${i}`, roles: ['user'], amr: ['pwd'], sep: 0, exp })).token)
  const issueUs = (now() - t0) / (N + 200)
  // uncached: every token is verified for the first time (200 warm-up tokens are not reused)
  const uncachedUs = await timeIt(N, async (i) => { const r = await svc.verifyAccess(issued[i]); if (!r.ok) throw new Error(r.reason) })
  // cached: the same tokens again
  const cachedUs = await timeIt(N, async (i) => { const r = await svc.verifyAccess(issued[i % 100]); if (!r.ok) throw new Error(r.reason) })
  return { alg: svc.alg, issueUs, uncachedUs, cachedUs }
}

const ed = await tokens('ed25519')
const es = await tokens('p256')
const keys = Array.from({ length: 1000 }, () => generateApiKey().key)
const apiKeyUs = await timeIt(50_000, (i) => { const k = keys[i % keys.length]; if (!isWellFormedApiKey(k)) throw new Error('shape'); hashApiKey(k) })

const summary = {
  jwtEd25519UncachedUs: ed.uncachedUs,
  jwtEd25519CachedUs: ed.cachedUs,
  jwtEs256UncachedUs: es.uncachedUs,
  jwtEs256CachedUs: es.cachedUs,
  apiKeyHashUs: apiKeyUs
}
const result = { name: 'token-verify', unit: 'µs per request', summary, detail: { ed25519: ed, es256: es } }

if (json) process.stdout.write(JSON.stringify(result) + '\n')
else {
  for (const [k, v] of Object.entries(summary)) process.stdout.write(`${k.padEnd(24)} ${v.toFixed(2).padStart(8)} µs\n`)
  process.stdout.write(`issue (Ed25519)          ${ed.issueUs.toFixed(2).padStart(8)} µs\n`)
}
