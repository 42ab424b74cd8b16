// Picks the backend from the store URL (config `store.url`, already made absolute by the config loader).
import { isAbsolute } from 'node:path'
import { errors } from '../errors.js'
import { createPostgresStore } from './postgres.js'
import { createSqliteStore } from './sqlite.js'
import type { StoreBackend } from './types.js'

export type { Store, StoreBackend } from './types.js'

export interface CreateStoreOptions {
  /** run migrate() before returning (default true); migrate is idempotent and safe across replicas */
  migrate?: boolean
  /** PostgreSQL schema (created on migrate); tests use one per run */
  schema?: string
  /** PostgreSQL pool size (default 10) */
  poolSize?: number
  onPoolError?: (err: Error) => void
  /** SQLite busy timeout (default 5000 ms) */
  busyTimeoutMs?: number
}

export type StoreUrl =
  | { kind: 'sqlite', path: string }
  | { kind: 'postgres', url: string }

/** `sqlite:/abs/path.db`, `sqlite::memory:`, `postgres://…` or `postgresql://…`. */
export function parseStoreUrl (url: string): StoreUrl {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length)
    if (path === ':memory:') return { kind: 'sqlite', path }
    if (!isAbsolute(path)) throw new errors.STORE(`store.url: the SQLite path must be absolute: ${path}`)
    return { kind: 'sqlite', path }
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url }
  throw new errors.STORE('store.url: expected sqlite:/path/file.db, sqlite::memory: or postgres://…')
}

export async function createStore (url: string, opts: CreateStoreOptions = {}): Promise<StoreBackend> {
  const target = parseStoreUrl(url)
  const store = target.kind === 'sqlite'
    ? createSqliteStore({ path: target.path, busyTimeoutMs: opts.busyTimeoutMs })
    : createPostgresStore({ url: target.url, schema: opts.schema, poolSize: opts.poolSize, onPoolError: opts.onPoolError })
  if (opts.migrate !== false) {
    try {
      await store.migrate()
    } catch (err) {
      await store.close().catch(() => {})
      throw err
    }
  }
  return store
}
