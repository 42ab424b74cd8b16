import { describe, expect, it } from 'vitest'
import { isLoopbackHost } from '../../../src/config/cidr.js'
import { buildConfig } from '../../../src/config/load.js'

describe('isLoopbackHost: one answer for the config check and the compliance report', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '[0::1]', '::ffff:127.0.0.1'])('%s stays on this machine', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })

  it.each(['0.0.0.0', '::', '[::]', '10.0.0.1', '128.0.0.1', '::2', 'example.com', 'localhost.example.com', '[::1', ''])('%s does not', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })

  it('plain HTTP is allowed on an IPv6 loopback listener, refused on the wildcard', () => {
    expect(buildConfig({ listen: { host: '::1' }, tls: { enabled: false } }, '/x').tls.enabled).toBe(false)
    expect(() => buildConfig({ listen: { host: '::' }, tls: { enabled: false } }, '/x')).toThrow(expect.objectContaining({ code: 'GH_ERR_CONFIG_INVALID' }))
  })
})
