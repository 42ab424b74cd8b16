// Development CA + server certificate in a temp folder, made once per test file.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeDevCerts } from '../../src/tls/dev-certs.js'

export interface TestCerts { dir: string, cert: string, key: string, caCert: string, caKey: string, ca: Buffer }

export function makeTestCerts (): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'gh-certs-'))
  const p = writeDevCerts(join(dir, 'server.crt'), join(dir, 'server.key'))
  return { dir, cert: p.cert, key: p.key, caCert: p.caCert, caKey: p.caKey, ca: readFileSync(p.caCert) }
}
