// TLS settings for the listener, from config: cert/key, floor version, cipher list, optional mTLS.
import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import type { SecureContextOptions, TlsOptions } from 'node:tls'
import type { GatehouseConfig } from '../config/schema.js'

export function tlsServerOptions (tls: GatehouseConfig['tls']): TlsOptions & SecureContextOptions {
  const mtls = tls.clientCa !== null
  return {
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    minVersion: tls.minVersion,
    ciphers: tls.ciphers,
    honorCipherOrder: true,
    // TLS 1.3 suites are all AEAD; keep OpenSSL's defaults for them
    ...(mtls ? { ca: readFileSync(tls.clientCa as string), requestCert: true, rejectUnauthorized: true } : {})
  }
}

/** notAfter of a PEM certificate (the first in the file), in Unix seconds. */
export function certificateNotAfterSeconds (pem: Buffer | string): number {
  return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000)
}
