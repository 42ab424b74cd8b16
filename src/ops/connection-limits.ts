// Connection caps at the socket, before TLS or HTTP: limits.maxConnections in total (Node drops the
// ones over it) and limits.connectionsPerSource per peer address. Trusted proxies carry many
// clients on their connections, so they count towards the total only.
import type { Server } from 'node:net'
import type { Socket } from 'node:net'
import { normalizeIp } from '../config/cidr.js'

export interface ConnectionLimits {
  maxConnections: number
  connectionsPerSource: number
  /** true for peers the per-source cap does not apply to (trusted proxies) */
  exempt: (ip: string) => boolean
}

export function limitConnections (server: Server, limits: ConnectionLimits): { open: (ip: string) => number } {
  server.maxConnections = limits.maxConnections
  const open = new Map<string, number>()
  // prepended: a refused socket is dropped before TLS or HTTP spend anything on it
  server.prependListener('connection', (socket: Socket) => {
    const ip = normalizeIp(socket.remoteAddress ?? '') ?? socket.remoteAddress ?? ''
    if (limits.exempt(ip)) return
    const n = (open.get(ip) ?? 0) + 1
    if (n > limits.connectionsPerSource) {
      socket.destroy()
      return
    }
    open.set(ip, n)
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1
      if (left <= 0) open.delete(ip)
      else open.set(ip, left)
    })
  })
  return { open: (ip) => open.get(ip) ?? 0 }
}
