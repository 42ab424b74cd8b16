// The client's address as the audit and lockout see it: the socket peer, unless that peer is a
// trusted proxy — then the X-Forwarded-For hop just before the first trusted proxy. A client
// that forges X-Forwarded-For to an untrusted listener changes nothing.
import { isIP } from 'node:net'
import { cidrContains, type Cidr } from '../config/cidr.js'

const normalize = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')

export function resolveSourceIp (socketIp: string | undefined, forwardedFor: string | string[] | undefined, trusted: readonly Cidr[]): string {
  let current = normalize(socketIp ?? '')
  const isTrusted = (ip: string) => trusted.some((c) => cidrContains(c, ip))
  if (trusted.length === 0 || !isTrusted(current) || forwardedFor === undefined) return current
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',').map((h) => normalize(h.trim())).filter((h) => h.length > 0)
  // walk from the nearest hop outwards, past every trusted proxy
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string
    if (isIP(hop) === 0) return current // garbage: stop at the last address we can vouch for
    current = hop
    if (!isTrusted(hop)) return hop
  }
  return current
}
