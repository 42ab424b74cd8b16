// Before `serve` touches the disk: the certificate files must be readable, and the folders where
// Gatehouse creates files (a development certificate, dataDir) writable, by the user it runs as.
// A container user that does not own a bind-mounted folder otherwise dies on a bare EACCES; this
// names the path, the owner, the uid Gatehouse runs as, and the fix.
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { GatehouseConfig } from '../config/schema.js'
import { errors } from '../errors.js'

export interface PathNeed { path: string, access: 'read' | 'write', purpose: string }
export interface Runner { uid: number, gid: number }
export interface PathProbe {
  exists: (path: string) => boolean
  /** null when allowed, else the errno code (EACCES, EROFS, …) */
  denied: (path: string, access: 'read' | 'write') => string | null
  owner: (path: string) => { uid: number, gid: number, mode: number } | null
}

/** The closest folder that exists: where a missing path would be created. */
function creatable (path: string, probe: PathProbe): string {
  let p = path
  while (!probe.exists(p) && dirname(p) !== p) p = dirname(p)
  return p
}

/** What first start reads and writes, from the configuration. */
export function startupPaths (config: GatehouseConfig, probe: PathProbe): PathNeed[] {
  const needs: PathNeed[] = []
  const tls = config.tls
  if (tls.enabled) {
    if (probe.exists(tls.cert) && probe.exists(tls.key)) {
      needs.push({ path: tls.cert, access: 'read', purpose: 'tls.cert' }, { path: tls.key, access: 'read', purpose: 'tls.key' })
    } else {
      needs.push({
        path: creatable(dirname(tls.cert), probe),
        access: 'write',
        purpose: 'the folder of tls.cert, where a development certificate is generated'
      })
    }
    if (tls.clientCa !== null) needs.push({ path: tls.clientCa, access: 'read', purpose: 'tls.clientCa' })
  }
  needs.push({ path: creatable(config.dataDir, probe), access: 'write', purpose: 'dataDir (generated keys, SQLite store)' })
  return needs
}

/** One line per path that the runner cannot use, each naming path, owner, runner uid and fix. */
export function pathProblems (needs: PathNeed[], probe: PathProbe, runner: Runner): string[] {
  const problems: string[] = []
  for (const n of needs) {
    const code = probe.denied(n.path, n.access)
    if (code === null) continue
    const o = probe.owner(n.path)
    const owned = o ? `owned by uid ${o.uid} gid ${o.gid}, mode ${(o.mode & 0o7777).toString(8).padStart(4, '0')}` : 'owner unknown'
    const fix = code === 'EROFS'
      ? 'mount a writable volume there'
      : `make it ${n.access === 'read' ? 'readable' : 'writable'} by uid ${runner.uid} ` +
        `(e.g. chown -R ${runner.uid}:${runner.gid} ${n.path}), ` +
        'or keep it in a named volume the container creates, as docker-compose.yml does'
    problems.push(`cannot ${n.access} ${n.path} (${n.purpose}): ${code}; ` +
      `it is ${owned} and Gatehouse runs as uid ${runner.uid} gid ${runner.gid}. Fix: ${fix}`)
  }
  return problems
}

const fsProbe: PathProbe = {
  exists: existsSync,
  denied (path, access) {
    try {
      const isDir = statSync(path).isDirectory()
      accessSync(path, access === 'read' ? constants.R_OK : constants.W_OK | (isDir ? constants.X_OK : 0))
      return null
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EACCES'
    }
  },
  owner (path) {
    try { const s = statSync(path); return { uid: s.uid, gid: s.gid, mode: s.mode } } catch { return null }
  }
}

function currentRunner (): Runner {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 }
}

/** Throws GH_ERR_PATH_ACCESS naming every path first start could not use. */
export function assertStartupPaths (config: GatehouseConfig, probe: PathProbe = fsProbe, runner: Runner = currentRunner()): void {
  const problems = pathProblems(startupPaths(config, probe), probe, runner)
  if (problems.length > 0) throw new errors.PATH_ACCESS(problems.join('\n'))
}
