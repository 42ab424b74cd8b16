// What the SQLite file itself must be: owner-only (it holds password hashes and TOTP secrets), in
// WAL mode, at an absolute path, with its schema version recorded.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore, parseStoreUrl } from '../../src/store/index.js'
import { migrations } from '../../src/store/migrations.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
const T = Date.UTC(2026, 0, 1)

async function codeOf (p: Promise<unknown>): Promise<unknown> {
  try { await p } catch (err) { return (err as { code?: unknown }).code }
  return 'no error'
}

describe('SQLite store file', () => {
  it('the database, its WAL and shared-memory files are mode 0600, and a missing folder is created 0700', async () => {
    const path = join(dir, 'nested', 'data', 'gatehouse.db')
    const store = await createStore(`sqlite:${path}`)
    await store.createUser({ username: 'alice', roles: ['user'], passwordHash: 'h' }, T)
    for (const f of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(f), f).toBe(true)
      expect(statSync(f).mode & 0o777, f).toBe(0o600)
    }
    expect(statSync(join(dir, 'nested', 'data')).mode & 0o777).toBe(0o700)
    await store.close()
  })

  it('an existing file with loose permissions is tightened to 0600', async () => {
    const path = join(dir, 'loose.db')
    new Database(path).close()
    chmodSync(path, 0o644)
    const store = await createStore(`sqlite:${path}`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    await store.close()
  })

  it('runs in WAL mode and records every migration version once', async () => {
    const path = join(dir, 'wal.db')
    const store = await createStore(`sqlite:${path}`)
    await store.migrate()
    await store.close()
    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>
    expect(versions.map((v) => v.version)).toEqual(migrations.map((m) => m.version))
    db.close()
  })

  it('a database from a newer Gatehouse is refused with GH_ERR_STORE', async () => {
    const path = join(dir, 'newer.db')
    await (await createStore(`sqlite:${path}`)).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future')
    db.close()
    expect(await codeOf(createStore(`sqlite:${path}`))).toBe('GH_ERR_STORE')
  })

  it('migrate: false leaves an empty file unmigrated until migrate() is called', async () => {
    const path = join(dir, 'lazy.db')
    const store = await createStore(`sqlite:${path}`, { migrate: false })
    await expect(store.countUsers()).rejects.toThrow()
    await store.migrate()
    expect(await store.countUsers()).toBe(0)
    await store.close()
  })
})

describe('store URLs', () => {
  it('pick the backend from the scheme', () => {
    expect(parseStoreUrl('sqlite:/abs/gatehouse.db')).toEqual({ kind: 'sqlite', path: '/abs/gatehouse.db' })
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' })
    expect(parseStoreUrl('postgres://u@h:5432/db')).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/db' })
    expect(parseStoreUrl('postgresql://u@h/db')).toEqual({ kind: 'postgres', url: 'postgresql://u@h/db' })
  })

  it('a relative SQLite path or an unknown scheme is GH_ERR_STORE', async () => {
    expect(await codeOf(createStore('sqlite:data/gatehouse.db'))).toBe('GH_ERR_STORE')
    expect(await codeOf(createStore('mysql://h/db'))).toBe('GH_ERR_STORE')
  })
})
