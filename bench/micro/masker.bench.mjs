// Micro-benchmark of the PII masker (target: masking + re-framing ≤ 15 µs CPU per streamed
// chunk). Run after `npm run build`:  node bench/micro/masker.bench.mjs
// Prints whole-text throughput (MB/s) and µs per streamed NDJSON chunk through the masking reply stage.
import { createMaskingEngine } from '../../dist/masking/index.js'

const dist = process.env.GATEHOUSE_BENCH_QUIET === '1'
const engine = createMaskingEngine({
  entities: ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret'],
  custom: [],
  key: Buffer.alloc(32, 1)
})

const prose = 'The quick brown fox jumps over the lazy dog while the model explains its reasoning, step by step. '
const withPii = 'Contact jane.doe@example.com or (212) 555-0123; SSN 123-45-6789; card 4111 1111 1111 1111. '
const plain = prose.repeat(10000) // ~1 MB
const mixed = (prose.repeat(9) + withPii).repeat(1000)

function mbps (text, rounds) {
  engine.maskText(text) // warm up
  const t0 = process.cpuUsage()
  for (let i = 0; i < rounds; i++) engine.maskText(text)
  const cpu = process.cpuUsage(t0)
  const sec = (cpu.user + cpu.system) / 1e6
  return (text.length * rounds) / 1e6 / sec
}

// Ollama-like stream: one token (a few characters) per NDJSON line
function ndjsonChunks (text) {
  const tokens = text.match(/\s*\S+/g) ?? []
  return tokens.map((t) => Buffer.from(JSON.stringify({ model: 'llama3.2', created_at: '2025-01-01T00:00:00.000000Z', response: t, done: false }) + '\n'))
}

function perChunk (text) {
  const chunks = ndjsonChunks(text)
  const run = () => {
    const stage = engine.replyStage('generate', 'ndjson', { masked: {}, usage: { input: null, output: null } })
    const t0 = process.cpuUsage()
    for (const c of chunks) stage.push(c)
    stage.end()
    const cpu = process.cpuUsage(t0)
    return (cpu.user + cpu.system) / chunks.length
  }
  run() // warm up
  const samples = []
  for (let i = 0; i < 5; i++) samples.push(run())
  samples.sort((a, b) => a - b)
  return { chunks: chunks.length, us: samples[2] }
}

const res = {
  plainMBps: mbps(plain, 5),
  mixedMBps: mbps(mixed, 5),
  streamPlain: perChunk(prose.repeat(300)),
  streamMixed: perChunk((prose.repeat(3) + withPii).repeat(100))
}
if (!dist) {
  console.log(`maskText plain prose      ${res.plainMBps.toFixed(1)} MB/s`)
  console.log(`maskText prose with PII   ${res.mixedMBps.toFixed(1)} MB/s`)
  console.log(`stream, plain             ${res.streamPlain.us.toFixed(2)} µs CPU per chunk (${res.streamPlain.chunks} chunks)`)
  console.log(`stream, with PII          ${res.streamMixed.us.toFixed(2)} µs CPU per chunk (${res.streamMixed.chunks} chunks)`)
}
console.log(JSON.stringify(res))
