// source.ip is the socket peer unless that peer is a trusted proxy; a spoofed X-Forwarded-For
// sent straight to Gatehouse changes nothing.
import { describe, expect, it } from 'vitest'
import { resolveSourceIp } from '../../../src/pipeline/source-ip.js'
import { parseCidr, cidrContains, throttleSubject, type Cidr } from '../../../src/config/cidr.js'

const cidrs = (...c: string[]) => c.map((x) => parseCidr(x) as Cidr)

describe('resolveSourceIp', () => {
  it('with no trusted proxies, X-Forwarded-For is ignored', () => {
    expect(resolveSourceIp('203.0.113.9', '1.2.3.4', [])).toBe('203.0.113.9')
  })
  it('a spoofed X-Forwarded-For from an untrusted peer is ignored', () => {
    expect(resolveSourceIp('203.0.113.9', '1.2.3.4', cidrs('10.0.0.0/8'))).toBe('203.0.113.9')
  })
  it('behind a trusted proxy, the hop before the first trusted proxy is the client', () => {
    expect(resolveSourceIp('10.0.0.5', '198.51.100.7, 10.0.0.9', cidrs('10.0.0.0/8'))).toBe('198.51.100.7')
  })
  it('a client prepending fake hops cannot pick its address', () => {
    expect(resolveSourceIp('10.0.0.5', '1.1.1.1, 198.51.100.7', cidrs('10.0.0.0/8'))).toBe('198.51.100.7')
  })
  it('garbage in X-Forwarded-For stops at the last address we can vouch for', () => {
    expect(resolveSourceIp('10.0.0.5', 'not-an-ip', cidrs('10.0.0.0/8'))).toBe('10.0.0.5')
  })
  it('IPv4-mapped IPv6 socket addresses are reported as IPv4', () => {
    expect(resolveSourceIp('::ffff:127.0.0.1', undefined, [])).toBe('127.0.0.1')
  })
})

describe('cidr', () => {
  it('matches v4 and v6 prefixes exactly', () => {
    expect(cidrContains(parseCidr('192.168.0.0/16') as Cidr, '192.168.255.1')).toBe(true)
    expect(cidrContains(parseCidr('192.168.0.0/16') as Cidr, '192.169.0.1')).toBe(false)
    expect(cidrContains(parseCidr('fd00::/8') as Cidr, 'fd12::1')).toBe(true)
    expect(cidrContains(parseCidr('fd00::/8') as Cidr, 'fe80::1')).toBe(false)
    expect(parseCidr('10.0.0.0/33')).toBeNull()
    expect(parseCidr('10.0.0.0/8x')).toBeNull()
  })
})

describe('throttleSubject (per-IP login throttle)', () => {
  it('counts an IPv6 client by its /64, so rotating addresses inside it changes nothing', () => {
    expect(throttleSubject('2001:db8:1:2:aaaa::1')).toBe(throttleSubject('2001:db8:1:2:ffff:1:2:3'))
    expect(throttleSubject('2001:db8:1:2::1')).toBe('2001:0db8:0001:0002::/64')
    expect(throttleSubject('2001:db8:1:3::1')).not.toBe(throttleSubject('2001:db8:1:2::1'))
  })
  it('counts IPv4 per address, IPv4-mapped IPv6 as IPv4', () => {
    expect(throttleSubject('203.0.113.9')).toBe('203.0.113.9')
    expect(throttleSubject('::ffff:203.0.113.9')).toBe('203.0.113.9')
    expect(throttleSubject('203.0.113.10')).not.toBe('203.0.113.9')
  })
})
