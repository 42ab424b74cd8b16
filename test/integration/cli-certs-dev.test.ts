// `gatehouse certs dev`: a development CA and a server certificate for localhost and 127.0.0.1,
// keys mode 0600, where the config points; the certificate verifies against the CA.
import { describe, expect, it } from 'vitest'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { cli, tempConfig } from '../helpers/cli.js'

describe('gatehouse certs dev', () => {
  it('writes a CA and a server certificate with SAN localhost and 127.0.0.1', async () => {
    const { dir, file } = tempConfig()
    const r = await cli(['certs', 'dev', '--json', '--config', file])
    expect(r.code).toBe(0)
    const paths = r.json() as { caCert: string, caKey: string, cert: string, key: string }
    expect(paths.cert).toBe(join(dir, 'certs', 'server.crt'))
    const ca = new X509Certificate(readFileSync(paths.caCert))
    const server = new X509Certificate(readFileSync(paths.cert))
    expect(ca.ca).toBe(true)
    expect(server.ca).toBe(false)
    expect(server.verify(ca.publicKey)).toBe(true)
    expect(server.checkHost('localhost')).toBe('localhost')
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(server.checkHost('evil.example')).toBeUndefined()
    for (const k of [paths.key, paths.caKey]) expect(statSync(k).mode & 0o777).toBe(0o600)
  })
  it('a second run keeps the CA so clients that trust it keep working', async () => {
    const { file } = tempConfig()
    const first = (await cli(['certs', 'dev', '--json', '--config', file])).json() as { caCert: string }
    const caBefore = readFileSync(first.caCert, 'utf8')
    await cli(['certs', 'dev', '--json', '--config', file])
    expect(readFileSync(first.caCert, 'utf8')).toBe(caBefore)
  })
})
