// IP/CIDR matching for trustProxies, IPv4 and IPv6 (IPv4-mapped IPv6 is treated as IPv4).
import { isIP } from 'node:net'

export interface Cidr { bytes: Buffer, prefix: number }

/**
 * One spelling per address, as the audit, the lockout and trustProxies compare them: IPv4-mapped
 * IPv6 becomes IPv4, IPv6 is lower case. Null when `ip` is not an IP address.
 */
export function normalizeIp (ip: string): string | null {
  const v4 = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
  const kind = isIP(v4)
  return kind === 0 ? null : kind === 6 ? v4.toLowerCase() : v4
}

function ipBytes (text: string): Buffer | null {
  const ip = normalizeIp(text)
  if (ip === null) return null
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number))
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, null]
  const parse = (s: string) => (s ? s.split(':') : [])
  const h = parse(head)
  const t = tail === null ? [] : parse(tail)
  const fill = tail === null ? [] : new Array(8 - h.length - t.length).fill('0')
  const groups = [...h, ...fill, ...t]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

/**
 * What the per-IP login throttle counts: an IPv4 address, or an IPv6 address's /64 — a single
 * host is routinely given a whole /64, so counting each /128 would let it rotate past the limit.
 */
export function throttleSubject (ip: string): string {
  const b = ipBytes(ip)
  if (b === null) return ip
  if (b.length === 4) return [...b].join('.')
  return `${b.subarray(0, 8).toString('hex').replace(/(.{4})(?!$)/g, '$1:')}::/64`
}

export function parseCidr (text: string): Cidr | null {
  const [ip, bits] = text.split('/')
  const bytes = ipBytes(ip ?? '')
  if (!bytes) return null
  const max = bytes.length * 8
  const prefix = bits === undefined ? max : Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) return null
  return { bytes, prefix }
}

const IPV6_LOOPBACK: Cidr = { bytes: Buffer.from([...new Array(15).fill(0), 1]), prefix: 128 }

/**
 * True for a host name or address that stays on this machine: `localhost`, 127.0.0.0/8, `::1` in
 * any spelling, with or without the brackets a URL puts around IPv6 (`[::1]`), IPv4-mapped included.
 */
export function isLoopbackHost (host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true
  const ip = normalizeIp(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host)
  if (ip === null) return false
  return isIP(ip) === 4 ? ip.startsWith('127.') : cidrContains(IPV6_LOOPBACK, ip)
}

export function cidrContains (cidr: Cidr, ip: string): boolean {
  const b = ipBytes(ip)
  if (!b || b.length !== cidr.bytes.length) return false
  let left = cidr.prefix
  for (let i = 0; i < b.length && left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff
    if (((b[i] as number) & mask) !== ((cidr.bytes[i] as number) & mask)) return false
  }
  return true
}
