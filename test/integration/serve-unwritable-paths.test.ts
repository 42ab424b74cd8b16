// `gatehouse serve` (the built binary) as a user that owns neither the certificate folder nor the
// place dataDir would be created — a container user facing a bind mount owned by root. It must
// exit 2 before touching anything, with a message naming each path, its owner, the uid it runs as
// and the fix. As root the binary is run as uid 65534 (setpriv); as anyone else, over 0555 folders.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { BIN } from '../helpers/process.js'

const root = process.getuid?.() === 0
const runner = root ? { uid: 65534, gid: 65534 } : { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 }

describe('serve on folders it cannot write', () => {
  it('exits 2 naming the certificate folder and the dataDir parent, with owner, uid and fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-unwritable-'))
    mkdirSync(join(dir, 'certs'))
    writeFileSync(join(dir, 'gatehouse.yaml'), stringify({
      listen: { host: '127.0.0.1', port: 0 },
      tls: { cert: './certs/server.crt', key: './certs/server.key' },
      dataDir: './data',
      store: { url: 'sqlite:./data/gatehouse.db' },
      audit: { sinks: [{ type: 'stdout' }] }
    }), { mode: 0o644 })
    // readable and traversable by everyone, writable by its owner only (and by nobody when not root)
    for (const d of [join(dir, 'certs'), dir]) chmodSync(d, root ? 0o755 : 0o555)
    const cmd = root
      ? ['setpriv', '--reuid', String(runner.uid), '--regid', String(runner.gid), '--clear-groups', process.execPath, BIN]
      : [process.execPath, BIN]
    const r = spawnSync(cmd[0] as string, [...cmd.slice(1), 'serve', '--config', join(dir, 'gatehouse.yaml')], { encoding: 'utf8', timeout: 30_000 })
    expect(r.status, r.stderr).toBe(2)
    const owner = root ? 'owned by uid 0 gid 0, mode 0755' : `owned by uid ${runner.uid}`
    expect(r.stderr).toContain(`cannot write ${join(dir, 'certs')} (the folder of tls.cert, where a development certificate is generated): EACCES; it is ${owner}`)
    expect(r.stderr).toContain(`cannot write ${dir} (dataDir (generated keys, SQLite store)): EACCES`)
    expect(r.stderr).toContain(`Gatehouse runs as uid ${runner.uid} gid ${runner.gid}`)
    expect(r.stderr).toContain(`chown -R ${runner.uid}:${runner.gid} ${join(dir, 'certs')}`)
    // nothing was created on the way
    expect(existsSync(join(dir, 'certs', 'server.crt'))).toBe(false)
    expect(existsSync(join(dir, 'data'))).toBe(false)
  })
})
