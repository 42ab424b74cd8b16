// Which headers cross the proxy. Requests: an allowlist, so the client's Authorization, cookies,
// X-Forwarded-*, Forwarded, X-Original-URL and hop-by-hop headers never reach Ollama, and a
// `Connection:` header naming our own headers cannot remove them. Replies: hop-by-hop stripped.
import type { IncomingHttpHeaders } from 'node:http'

const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'user-agent', 'accept-language'] as const

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'proxy-connection'
])

export function upstreamRequestHeaders (incoming: IncomingHttpHeaders, upstreamHost: string, requestId: string,
  bodyLength: number | null): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = incoming[name]
    if (typeof v === 'string') out[name] = v
  }
  out.host = upstreamHost
  out['x-request-id'] = requestId
  if (bodyLength !== null) out['content-length'] = String(bodyLength)
  return out
}

/** Reply headers worth passing back; body-length headers are dropped when the body is re-framed. */
export function clientReplyHeaders (
  upstream: Record<string, string | string[] | undefined>, bodyRewritten: boolean
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  const named = String(upstream.connection ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  for (const [name, value] of Object.entries(upstream)) {
    const n = name.toLowerCase()
    if (value === undefined || HOP_BY_HOP.has(n) || named.includes(n)) continue
    if (n === 'set-cookie' || n === 'x-request-id' || n === 'server') continue
    if (bodyRewritten && (n === 'content-length' || n === 'content-encoding' || n === 'etag')) continue
    out[n] = value
  }
  return out
}
