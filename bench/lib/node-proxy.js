// The floor for any Node.js gateway: a bare HTTPS reverse proxy (node:https server + undici Pool,
// streamed through, no auth, no parsing, no audit). Gatehouse ÷ this = what Gatehouse's own work
// costs; this ÷ nginx = what Node.js costs. Run: node bench/lib/node-proxy.js CERT KEY UPSTREAM_PORT
// → prints {"port":N} on stdout once listening.
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { Pool } from 'undici'

const [cert, key, upstreamPort] = process.argv.slice(2)
const upstreamHost = `127.0.0.1:${upstreamPort}`
const pool = new Pool(`http://${upstreamHost}`, { connections: null, pipelining: 1, keepAliveTimeout: 120_000, headersTimeout: 300_000, bodyTimeout: 300_000 })
// no cap on upstream connections, as in Gatehouse: a cap would queue the memory scenario's held
// streams inside undici past it (only 2,048 of them reached the upstream before)
const PASS = ['content-type', 'accept', 'user-agent', 'accept-language']

const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.3', keepAliveTimeout: 120_000 }, (req, res) => {
  const headers = { host: upstreamHost }
  for (const h of PASS) if (req.headers[h] !== undefined) headers[h] = req.headers[h]
  const ac = new globalThis.AbortController()
  res.on('close', () => { if (!res.writableFinished) ac.abort() })
  pool.stream({ method: req.method, path: req.url, headers, body: req, signal: ac.signal }, ({ statusCode, headers: h }) => {
    const out = {}
    for (const k of ['content-type', 'content-length']) if (h[k] !== undefined) out[k] = h[k]
    res.writeHead(statusCode, out)
    return res
  }).catch(() => { if (!res.headersSent) { res.writeHead(502, { 'content-type': 'application/json' }); res.end('{"error":"upstream"}') } else res.destroy() })
})
server.maxRequestsPerSocket = 0
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'))
const stop = () => { server.close(); server.closeAllConnections(); pool.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref() }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
