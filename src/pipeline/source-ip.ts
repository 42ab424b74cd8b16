// The client's address as the audit and lockout see it: the socket peer, unless that peer is a
// trusted proxy — then the X-Forwarded-For hop just before the first trusted proxy. A client
// that forges X-Forwarded-For to an untrusted listener changes nothing.
import { cidrContains, normalizeIp, type Cidr } from '../config/cidr.js'

export function resolveSourceIp (socketIp: string | undefined, forwardedFor: string | string[] | undefined,
  trusted: readonly Cidr[]): string {
  let current = normalizeIp(socketIp ?? '') ?? socketIp ?? ''
  const isTrusted = (ip: string) => trusted.some((c) => cidrContains(c, ip))
  if (trusted.length === 0 || !isTrusted(current) || forwardedFor === undefined) return current
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',').map((h) => h.trim()).filter((h) => h.length > 0)
  // walk from the nearest hop outwards, past every trusted proxy
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i] as string)
    if (hop === null) return current // garbage: stop at the last address we can vouch for
    current = hop
    if (!isTrusted(hop)) return hop
  }
  return current
}
