// The soak's own PostgreSQL, Redis and audit file system, so that it can stop and start them under
// load without touching the machine's shared servers: each server listens on 127.0.0.1 on a free
// port with its files in a temporary folder; the file system is a tmpfs (root only) whose size can be
// brought down to what it holds (full) and back up (freed) while the gateway writes to it.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function freePort () {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const accepting = (port) => new Promise((resolve) => {
  const c = connect({ host: '127.0.0.1', port })
  c.once('connect', () => { c.destroy(); resolve(true) })
  c.once('error', () => resolve(false))
})

async function untilAccepting (port, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs
  while (!(await accepting(port))) {
    if (Date.now() > end) throw new Error(`nothing accepts on port ${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function pgBin () {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
    if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  }
  return null
}

/** why the soak cannot run its own servers and file system here, or null when it can */
export function soakPrerequisitesMissing () {
  const missing = []
  if (process.getuid?.() !== 0) missing.push('root (to mount the audit tmpfs; the private PostgreSQL then runs as the postgres user)')
  if (pgBin() === null) missing.push('PostgreSQL server binaries (initdb under /usr/lib/postgresql/*/bin)')
  try { execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' }) } catch { missing.push('a postgres OS user') }
  try { execFileSync('redis-server', ['--version'], { stdio: 'pipe' }) } catch { missing.push('redis-server on PATH') }
  return missing.length > 0 ? missing.join('; ') : null
}

/** A private PostgreSQL (initdb in a temporary folder, run as the postgres user, fsync off). */
export async function startPostgres () {
  const bin = pgBin()
  const dir = mkdtempSync(join(tmpdir(), 'gh-soak-pg-'))
  chmodSync(dir, 0o700)
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString())
  chownSync(dir, uid, gid)
  const argv = (cmd, args) => ['-u', 'postgres', '--', join(bin, cmd), ...args]
  // pg_ctl runs asynchronously: the soak's clients keep going while the server stops and starts
  const run = (cmd, args) => new Promise((resolve, reject) => {
    execFile('runuser', argv(cmd, args), (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve()))
  })
  const data = join(dir, 'data')
  execFileSync('runuser', argv('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']), { stdio: 'pipe' })
  const port = await freePort()
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`
  const start = async () => {
    await run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start'])
    await untilAccepting(port)
  }
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'])
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy () {
      try { await stop() } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A private redis-server without persistence: a restart forgets every counter. */
export async function startRedis () {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gh-soak-redis-'))
  let child = null
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
    await untilAccepting(port)
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
    start,
    stop,
    async destroy () { await stop(); rmSync(dir, { recursive: true, force: true }) }
  }
}

/**
 * A tmpfs for the audit log. `fill()` shrinks it to what it holds plus a little and fills that
 * little, so the next write fails with ENOSPC without ever holding more than the log in memory;
 * `free()` deletes the filler and gives the size back.
 */
export function mountAuditFs (sizeMiB) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-soak-auditfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
  const filler = join(dir, 'filler')
  const remount = (size) => execFileSync('mount', ['-o', `remount,size=${size}`, dir])
  let mounted = true
  return {
    dir,
    fill () {
      const st = statfsSync(dir)
      const usedKiB = Math.ceil((st.blocks - st.bfree) * st.bsize / 1024)
      remount(`${usedKiB + 64}k`)
      const fd = openSync(filler, 'a')
      let total = 0
      try {
        // big blocks first, then single bytes, so no whole page is left
        for (const block of [Buffer.alloc(4096, 0x78), Buffer.alloc(1, 0x78)]) {
          for (;;) {
            try { total += writeSync(fd, block) } catch (err) {
              if (err.code === 'ENOSPC') break
              throw err
            }
          }
        }
      } finally { closeSync(fd) }
      return total
    },
    free () {
      rmSync(filler, { force: true })
      remount(`${sizeMiB}m`)
    },
    unmount () {
      if (!mounted) return
      mounted = false
      // lazy: the gateway may still hold a file open on it if the soak failed half-way
      try { execFileSync('umount', ['-l', dir]) } finally { rmSync(dir, { recursive: true, force: true }) }
    }
  }
}
