// First start under a container user that does not own its folders: the error names the path, its
// owner, the uid Gatehouse runs as and the fix, for the certificate and for dataDir, instead of a
// bare EACCES from deep inside certificate generation or the key store.
import { describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig } from '../../../src/config/load.js'
import { assertStartupPaths, pathProblems, startupPaths, type PathProbe } from '../../../src/cli/path-access.js'

const config = (extra: Record<string, unknown> = {}) => buildConfig({
  listen: { host: '0.0.0.0', port: 8443 },
  tls: { enabled: true, cert: '/app/certs/server.crt', key: '/app/certs/server.key' },
  dataDir: '/app/data',
  store: { url: 'sqlite:/app/data/gatehouse.db' },
  audit: { sinks: [{ type: 'stdout' }] },
  ...extra
}, '/app/config')

/** A file system of existing paths, each with an owner, mode and the accesses uid 1000 is denied. */
function probe (paths: Record<string, { uid: number, mode: number, deny?: Array<'read' | 'write'>, code?: string }>): PathProbe {
  return {
    exists: (p) => p in paths,
    denied: (p, access) => (paths[p]?.deny?.includes(access) ? paths[p]?.code ?? 'EACCES' : null),
    owner: (p) => (paths[p] ? { uid: paths[p].uid, gid: paths[p].uid, mode: paths[p].mode } : null)
  }
}
const node = { uid: 1000, gid: 1000 }

describe('startup path checks', () => {
  it('an unwritable certs folder (bind mount owned by root) is named with its owner, the runner uid and the fix', () => {
    const fs = probe({ '/': { uid: 0, mode: 0o755 }, '/app': { uid: 0, mode: 0o755 }, '/app/certs': { uid: 0, mode: 0o755, deny: ['write'] }, '/app/data': { uid: 1000, mode: 0o700 } })
    const problems = pathProblems(startupPaths(config(), fs), fs, node)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('cannot write /app/certs (the folder of tls.cert, where a development certificate is generated): EACCES')
    expect(problems[0]).toContain('owned by uid 0 gid 0, mode 0755')
    expect(problems[0]).toContain('Gatehouse runs as uid 1000 gid 1000')
    expect(problems[0]).toContain('chown -R 1000:1000 /app/certs')
    expect(problems[0]).toContain('named volume')
  })

  it('an existing but unreadable key is named; a readable pair needs no write access', () => {
    const fs = probe({
      '/app/certs': { uid: 0, mode: 0o755, deny: ['write'] },
      '/app/certs/server.crt': { uid: 0, mode: 0o644 },
      '/app/certs/server.key': { uid: 0, mode: 0o600, deny: ['read'] },
      '/app/data': { uid: 1000, mode: 0o700 }
    })
    const problems = pathProblems(startupPaths(config(), fs), fs, node)
    expect(problems).toEqual([expect.stringContaining('cannot read /app/certs/server.key (tls.key): EACCES; it is owned by uid 0 gid 0, mode 0600')])
    expect(problems[0]).toContain('make it readable by uid 1000')
  })

  it('a missing dataDir is judged by the closest folder that exists, where it would be created', () => {
    const fs = probe({ '/': { uid: 0, mode: 0o755 }, '/app': { uid: 0, mode: 0o755, deny: ['write'] }, '/app/certs/server.crt': { uid: 0, mode: 0o644 }, '/app/certs/server.key': { uid: 1000, mode: 0o600 } })
    const needs = startupPaths(config(), fs)
    expect(needs).toContainEqual({ path: '/app', access: 'write', purpose: 'dataDir (generated keys, SQLite store)' })
    expect(pathProblems(needs, fs, node)).toEqual([expect.stringContaining('cannot write /app (dataDir (generated keys, SQLite store)): EACCES')])
  })

  it('a read-only file system says to mount a writable volume', () => {
    const fs = probe({ '/app/certs': { uid: 1000, mode: 0o755 }, '/app/data': { uid: 0, mode: 0o755, deny: ['write'], code: 'EROFS' } })
    expect(pathProblems(startupPaths(config(), fs), fs, node)).toEqual([expect.stringMatching(/cannot write \/app\/data .*EROFS.*Fix: mount a writable volume there$/)])
  })

  it('with TLS off only dataDir is checked, and assertStartupPaths throws GH_ERR_PATH_ACCESS listing every problem', () => {
    const fs = probe({ '/app/data': { uid: 0, mode: 0o755, deny: ['write'] } })
    const off = config({ listen: { host: '127.0.0.1', port: 8443 }, tls: { enabled: false } })
    expect(startupPaths(off, fs).map((n) => n.path)).toEqual(['/app/data'])
    expect(() => assertStartupPaths(off, fs, node)).toThrow(expect.objectContaining({ code: 'GH_ERR_PATH_ACCESS', message: expect.stringContaining('/app/data') }))
  })

  it('passes on folders the runner can write (real file system)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-paths-'))
    expect(() => assertStartupPaths(config({ tls: { enabled: true, cert: join(dir, 'certs/server.crt'), key: join(dir, 'certs/server.key') }, dataDir: join(dir, 'data') }))).not.toThrow()
  })
})
