// The one client that talks to Ollama: an undici Pool with the configured timeouts, and the one
// place where upstream failures become client-facing errors (refused → 502, slow → 504).
import { Pool } from 'undici'
import { errors } from '../errors.js'

export interface Upstream {
  pool: Pool
  /** value for the Host header Ollama expects */
  host: string
  origin: string
  headersTimeoutMs: number
  idleTimeoutMs: number
  /** GET / within a short timeout: true when Ollama answers */
  ping: (timeoutMs?: number) => Promise<boolean>
  close: () => Promise<void>
}

/** One host's origin and the timeouts that apply to every host. */
export interface UpstreamSettings { url: string, connectTimeoutMs: number, headersTimeoutMs: number, idleTimeoutMs: number }

export function createUpstream (cfg: UpstreamSettings): Upstream {
  const url = new URL(cfg.url)
  const pool = new Pool(url.origin, {
    connect: { timeout: cfg.connectTimeoutMs },
    headersTimeout: cfg.headersTimeoutMs,
    bodyTimeout: cfg.idleTimeoutMs,
    keepAliveTimeout: 4_000,
    // no cap of its own: each open stream holds one upstream connection, and what bounds them is
    // already in front of the pool (limits.maxConnections client connections with one request each,
    // a host's maxConcurrent). A cap here queued the streams past it inside undici, unseen and unsent
    connections: null,
    pipelining: 1
  })
  return {
    pool,
    host: url.host,
    origin: url.origin,
    headersTimeoutMs: cfg.headersTimeoutMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
    async ping (timeoutMs = 2000) {
      try {
        const res = await pool.request({ method: 'GET', path: '/', headers: { host: url.host }, signal: AbortSignal.timeout(timeoutMs) })
        await res.body.dump()
        return res.statusCode < 500
      } catch {
        return false
      }
    },
    close: () => pool.close()
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

export function isUpstreamTimeout (err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code
  return code !== undefined && TIMEOUT_CODES.has(code)
}

/** Maps a failure to reach or read from Ollama to the error the client gets. */
export function upstreamError (err: unknown): Error {
  return isUpstreamTimeout(err) ? new errors.UPSTREAM_TIMEOUT() : new errors.UPSTREAM_UNAVAILABLE()
}
