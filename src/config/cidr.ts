// IP/CIDR matching for trustProxies, IPv4 and IPv6 (IPv4-mapped IPv6 is treated as IPv4).
import { isIP } from 'node:net'

export interface Cidr { bytes: Buffer, prefix: number }

function ipBytes (ip: string): Buffer | null {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (v4mapped) ip = v4mapped[1] as string
  const kind = isIP(ip)
  if (kind === 4) return Buffer.from(ip.split('.').map(Number))
  if (kind !== 6) return null
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

export function parseCidr (text: string): Cidr | null {
  const [ip, bits] = text.split('/')
  const bytes = ipBytes(ip ?? '')
  if (!bytes) return null
  const max = bytes.length * 8
  const prefix = bits === undefined ? max : Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) return null
  return { bytes, prefix }
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
