#!/usr/bin/env node
// What one held stream costs Node.js itself, below any gateway: the resident memory per open
// stream of three bare servers, each in a fresh process, holding N streams after their first chunk:
//
//   tls             node:https answering each request with a head and one chunk, then holding it
//   tls-undici      the same, the chunk relayed from an upstream HTTP server through an undici Pool
//                   (one upstream connection per stream, as in a proxy)
//   fastify-undici  the same behind Fastify (a route that hijacks the reply), as Gatehouse does
//
// Read against the bench's memory figure for Gatehouse: what a gateway on Node.js cannot go below.
//
//   node bench/memory-floor.js [--held 4000]
import { execFileSync } from 'node:child_process'
import https from 'node:https'
import http from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked, stop, stopAll, waitForLine } from './lib/children.js'
import { raiseOpenFileLimit } from './lib/proc.js'

const SELF = fileURLToPath(import.meta.url)
const MODES = ['tls', 'tls-undici', 'fastify-undici']
const [role, ...rest] = process.argv.slice(2)

if (role === '--upstream') await upstream()
else if (role === '--server') await server(...rest)
else await main()

/** an upstream that answers every request with a head and one NDJSON line, and holds it open */
async function upstream () {
  const s = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.write('{"message":{"content":"hi"},"done":false}\n') })
  })
  s.keepAliveTimeout = 600_000
  s.requestTimeout = 0
  s.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\n'))
}

async function server (mode, cert, key, upstreamPort) {
  const { Pool } = await import('undici')
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: null, pipelining: 1 })
  const relay = (res) => {
    pool.dispatch({ method: 'POST', path: '/api/chat', headers: { host: 'ollama', 'content-type': 'application/json' }, body: '{"model":"m"}' }, {
      onRequestStart () {},
      onResponseStart (_c, status) { res.writeHead(status, { 'content-type': 'application/x-ndjson' }) },
      onResponseData (_c, chunk) { res.write(chunk) },
      onResponseEnd () { res.end() },
      onResponseError () { res.destroy() }
    })
  }
  const options = { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.3' }
  let s
  if (mode === 'fastify-undici') {
    const { default: Fastify } = await import('fastify')
    const app = Fastify({ https: options })
    app.post('/api/chat', async (_request, reply) => { reply.hijack(); relay(reply.raw) })
    await app.listen({ port: 0, host: '127.0.0.1' })
    s = app.server
  } else {
    s = https.createServer(options, (req, res) => {
      req.resume()
      req.on('end', () => {
        if (mode === 'tls') { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.write('{"a":1}\n') } else relay(res)
      })
    })
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve))
  }
  s.keepAliveTimeout = 600_000
  s.requestTimeout = 0
  s.headersTimeout = 600_000
  process.stdout.write(JSON.stringify({ port: s.address().port }) + '\n')
}

async function main () {
  const { values: opt } = parseArgs({ options: { held: { type: 'string' } } })
  const held = Math.max(100, Math.min(20_000, Number(opt.held ?? 4000) || 4000))
  // a held stream is two sockets in the server and one here
  const { limit } = raiseOpenFileLimit(2 * held + 400)
  const count = Math.min(held, Math.floor((limit - 400) / 2))
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-memory-floor-'))
  const portOf = (child, label) => waitForLine(child, [child.stdout], (l) => { try { return JSON.parse(l).port } catch { return null } }, 10_000, label)
  const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'),
      '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
    const up = spawnTracked('upstream', process.execPath, [SELF, '--upstream'])
    const upstreamPort = await portOf(up, 'upstream')
    process.stdout.write(`| server | streams held | RSS before (MiB) | RSS with them (MiB) | KiB per stream |\n| --- | ---: | ---: | ---: | ---: |\n`)
    for (const mode of MODES) {
      const srv = spawnTracked(mode, process.execPath, [SELF, '--server', mode, join(dir, 'cert.pem'), join(dir, 'key.pem'), String(upstreamPort)])
      const port = await portOf(srv, mode)
      const open = (n) => Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
        const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          s.write('POST /api/chat HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{"model":"m"}')
        })
        s.once('data', () => { resolve(s) })
        s.once('error', reject)
      })))
      // warm-up: the first streams load code and fill pools that later ones reuse
      for (const s of await open(50)) s.destroy()
      await sleep(1000)
      const before = rssKiB(srv.pid)
      const sockets = []
      for (let i = 0; i < count; i += 200) sockets.push(...await open(Math.min(200, count - i)))
      await sleep(2000)
      const after = rssKiB(srv.pid)
      process.stdout.write(`| ${mode} | ${count} | ${(before / 1024).toFixed(1)} | ${(after / 1024).toFixed(1)} | ${((after - before) / count).toFixed(1)} |\n`)
      for (const s of sockets) s.destroy()
      await stop(srv, 2000)
    }
  } finally {
    await stopAll(2000)
    rmSync(dir, { recursive: true, force: true })
  }
}
