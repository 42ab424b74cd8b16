// Throwaway PostgreSQL and Redis servers that a fault test owns and may stop and restart, so the
// machine's shared servers (which other tests use) are never touched. Each listens on 127.0.0.1
// only, on a free port, with its files in a temporary directory removed on stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.js'

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** true when something accepts TCP connections on the port */
async function accepting (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port })
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => resolve(false))
  })
}

function pgBin (): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a))
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  return null
}

function postgresUid (): { uid: number, gid: number } | null {
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) }
  } catch { return null }
}

/** why a private PostgreSQL cannot run here, or null when it can */
export function privatePostgresMissing (): string | null {
  if (pgBin() === null) return 'no initdb under /usr/lib/postgresql/*/bin'
  if (process.getuid?.() === 0 && postgresUid() === null) return 'running as root without a postgres OS user'
  return null
}

export interface PrivatePostgres {
  url: string
  port: number
  stop: () => Promise<void>
  start: () => Promise<void>
  /** stops the server and removes its files */
  destroy: () => Promise<void>
}

export async function startPrivatePostgres (): Promise<PrivatePostgres> {
  const bin = pgBin()
  if (bin === null) throw new Error('no PostgreSQL binaries')
  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'))
  chmodSync(dir, 0o700)
  const asRoot = process.getuid?.() === 0
  const owner = asRoot ? postgresUid() : null
  if (owner) chownSync(dir, owner.uid, owner.gid)
  const run = (cmd: string, args: string[]) => execFileSync(asRoot ? 'runuser' : join(bin, cmd),
    asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, { stdio: 'pipe' })
  const data = join(dir, 'data')
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const port = await freePort()
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`
  const start = async () => {
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '20', 'start'])
    await eventually(async () => { if (!(await accepting(port))) throw new Error('not accepting yet') }, { timeoutMs: 10_000 })
  }
  const stop = async () => { run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']) }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      try { await stop() } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface PrivateRedis {
  url: string
  port: number
  stop: () => Promise<void>
  start: () => Promise<void>
  destroy: () => Promise<void>
}

export function privateRedisMissing (): string | null {
  try { execFileSync('redis-server', ['--version'], { stdio: 'pipe' }) } catch { return 'no redis-server on PATH' }
  return null
}

export async function startPrivateRedis (): Promise<PrivateRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gh-redis-'))
  let child: ChildProcess | null = null
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' })
    await eventually(async () => { if (!(await accepting(port))) throw new Error('not accepting yet') }, { timeoutMs: 10_000 })
  }
  const stop = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((resolve) => c.once('exit', resolve))
    c.kill('SIGKILL')
    await exited
    child = null
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    destroy: async () => { await stop(); rmSync(dir, { recursive: true, force: true }) }
  }
}
