// Ports and readiness checks, loopback only.
import net from 'node:net'
import { request } from 'undici'
import { Agent } from 'undici'

export function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function agentFor (ca) {
  return new Agent({ connect: ca ? { ca, servername: 'localhost' } : {} })
}

/** one request through a fresh agent; returns { status, body, headers } */
export async function fetchOnce (origin, ca, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const dispatcher = agentFor(ca)
  try {
    const res = await request(origin + path, { method, headers, body, dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 })
    const text = await res.body.text()
    return { status: res.statusCode, body: text, headers: res.headers }
  } finally {
    await dispatcher.close()
  }
}

/** poll until the origin answers anything over TLS (or plain HTTP without ca) */
export async function waitForTls (origin, ca, timeoutMs, child, label) {
  const end = Date.now() + timeoutMs
  let last
  while (Date.now() < end) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}): ${child.tail?.slice(-1500)}`)
    try { await fetchOnce(origin, ca, { path: '/' }); return } catch (err) { last = err }
    await sleep(100)
  }
  throw new Error(`${label} did not answer on ${origin} within ${timeoutMs} ms: ${last?.message}`)
}
