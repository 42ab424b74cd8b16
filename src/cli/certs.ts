// `gatehouse certs dev`: a development CA and server certificate where the config points.
import { existsSync } from 'node:fs'
import type { GatehouseConfig } from '../config/schema.js'
import { writeDevCerts } from '../tls/dev-certs.js'
import type { Io } from './output.js'

export function certsDev (config: GatehouseConfig, io: Io, json: boolean): number {
  const paths = writeDevCerts(config.tls.cert, config.tls.key)
  if (json) io.out(JSON.stringify(paths))
  else {
    io.out(`wrote development CA ${paths.caCert} and server certificate ${paths.cert} (SAN localhost, 127.0.0.1, ::1)\n` +
      `trust the CA in clients, e.g. NODE_EXTRA_CA_CERTS=${paths.caCert}`)
  }
  return 0
}

/** On first start: create a development certificate when the configured files are missing, and say so loudly. */
export function ensureServingCertificate (config: GatehouseConfig, io: Io): void {
  if (!config.tls.enabled) return
  const haveCert = existsSync(config.tls.cert)
  const haveKey = existsSync(config.tls.key)
  if (haveCert && haveKey) return
  if (haveCert !== haveKey) {
    throw new Error(`tls: ${haveCert ? config.tls.key : config.tls.cert} is missing while its pair exists; refusing to overwrite`)
  }
  const p = writeDevCerts(config.tls.cert, config.tls.key)
  io.err([
    '!'.repeat(78),
    `!! WARNING: no TLS certificate at ${config.tls.cert}`,
    `!! generated a SELF-SIGNED DEVELOPMENT certificate (CA: ${p.caCert}).`,
    '!! Do not use it in production: configure tls.cert and tls.key with a real certificate.',
    '!'.repeat(78)
  ].join('\n'))
}
