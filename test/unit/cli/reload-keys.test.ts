// Which changed keys a SIGHUP applies live (the TLS files and settings) and which wait for a restart.
import { describe, expect, it } from 'vitest'
import { buildConfig } from '../../../src/config/load.js'
import { keysNeedingRestart } from '../../../src/cli/reload.js'

const cfg = (raw: Record<string, unknown>) => buildConfig(raw, '/etc/gatehouse')

describe('SIGHUP: live keys and restart keys', () => {
  it('new certificate and key files, minimum version and ciphers apply live', () => {
    expect(keysNeedingRestart(cfg({}), cfg({ tls: { cert: 'new.crt', key: 'new.key', minVersion: 'TLSv1.3' } }))).toEqual([])
  })
  it('other keys are named for a restart, by section and key', () => {
    expect(keysNeedingRestart(cfg({}), cfg({ rateLimit: { requestsPerMinute: 7 }, listen: { port: 9443 }, tls: { cert: 'x.crt' } })))
      .toEqual(['listen.port', 'rateLimit.requestsPerMinute'])
  })
  it('switching mTLS on is a restart; another CA file while it stays on is live', () => {
    expect(keysNeedingRestart(cfg({}), cfg({ tls: { clientCa: 'ca.crt' } }))).toEqual(['tls.clientCa'])
    expect(keysNeedingRestart(cfg({ tls: { clientCa: 'a.crt' } }), cfg({ tls: { clientCa: 'b.crt' } }))).toEqual([])
  })
})
