// Development CA + server certificate for tests. The run makes one set (test/global-setup.ts) that
// every file shares; a test that must write certificate files next to its config copies them.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { inject } from 'vitest'
import { writeDevCerts, type DevCertPaths } from '../../src/tls/dev-certs.js'

export interface TestCerts { dir: string, cert: string, key: string, caCert: string, caKey: string, ca: Buffer }

/** The run's shared certificates (read-only). */
export function sharedTestCerts (): TestCerts {
  const p = inject('testCerts')
  return { dir: p.dir, cert: p.cert, key: p.key, caCert: p.caCert, caKey: p.caKey, ca: readFileSync(p.caCert) }
}

/** A fresh CA and server certificate of this test's own (slow: two RSA keys). */
export function makeTestCerts (): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'gh-certs-'))
  const p = writeDevCerts(join(dir, 'server.crt'), join(dir, 'server.key'))
  return { dir, cert: p.cert, key: p.key, caCert: p.caCert, caKey: p.caKey, ca: readFileSync(p.caCert) }
}

/** Copies the shared certificates to `certFile`/`keyFile`, with ca.crt and ca.key beside them, as `gatehouse certs dev` lays them out. */
export function copyTestCerts (certFile: string, keyFile: string): DevCertPaths {
  const shared = sharedTestCerts()
  const dir = dirname(certFile)
  const paths = { caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: certFile, key: keyFile }
  mkdirSync(dir, { recursive: true })
  mkdirSync(dirname(keyFile), { recursive: true })
  copyFileSync(shared.caCert, paths.caCert)
  copyFileSync(shared.caKey, paths.caKey)
  copyFileSync(shared.cert, paths.cert)
  copyFileSync(shared.key, paths.key)
  return paths
}
