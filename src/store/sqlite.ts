// The embedded default backend: one SQLite file (WAL, mode 0600). better-sqlite3 is synchronous, so
// inside one process every call is already serialized; across processes each primitive is a single
// statement or an IMMEDIATE transaction, and busy_timeout makes writers queue instead of failing.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { errors } from '../errors.js'
import { MIGRATIONS_TABLE_DDL, pendingMigrations } from './migrations.js'
import { USER_COLUMNS, USER_FROM, toApiKey, toFailureState, toSession, toSessionWithUser, toUser, SESSION_WITH_USER,
  toUsageGroup, userPatchUpdate } from './rows.js'
import { CLAIM_TOTP_STEP, RECORD_FAILURE, STATE_ADD, STATE_HIT, STATE_SUM, STATE_REVOKE, STATE_SWEEP, USAGE_INSERT, USAGE_OF,
  usageSummarySql } from './sql.js'
import type { StatePrimitives } from '../cluster-state/types.js'
import type { ApiKeyRecord, StoreBackend, UsageRecord, UserRecord } from './types.js'

export interface SqliteStoreOptions {
  /** absolute file path, or ':memory:' */
  path: string
  /** how long a writer waits for another process's lock before failing */
  busyTimeoutMs?: number
}

type Row = Record<string, unknown>

const FILE_MODE = 0o600

/** Creates the file (and its folder) owner-only before SQLite opens it; SQLite gives -wal/-shm the same mode. */
function prepareFile (path: string): void {
  const dir = dirname(path)
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', FILE_MODE))
  chmodSync(path, FILE_MODE)
}

function isUniqueViolation (err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

const sqlValue = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : Array.isArray(v) ? JSON.stringify(v) : v)

export type SyncMode = 'FULL' | 'NORMAL'

/** One connection to the file (or a private in-memory database) with the durability its writes need. */
export function openConnection (path: string, synchronous: SyncMode, busyTimeoutMs: number): Database.Database {
  const db = new Database(path)
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
  if (path !== ':memory:') {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous}`)
  }
  return db
}

/** Prepared-statement shorthands over one connection; each statement is prepared once. */
function statementsOf (db: Database.Database) {
  const statements = new Map<string, Database.Statement>()
  const prepared = (sql: string): Database.Statement => {
    let st = statements.get(sql)
    if (!st) { st = db.prepare(sql); statements.set(sql, st) }
    return st
  }
  return {
    one: (sql: string, params: Row = {}): Row | undefined => prepared(sql).get(params) as Row | undefined,
    all: (sql: string, params: Row = {}): Row[] => prepared(sql).all(params) as Row[],
    run: (sql: string, params: Row = {}): number => prepared(sql).run(params).changes
  }
}

export function createSqliteStore (opts: SqliteStoreOptions): StoreBackend {
  const memory = opts.path === ':memory:'
  if (!memory) prepareFile(opts.path)
  const busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))
  // FULL: a revocation, a lock or an account change that was acknowledged must survive a power cut
  const db = openConnection(opts.path, 'FULL', busyTimeoutMs)
  if (!memory) for (const suffix of ['-wal', '-shm']) if (existsSync(opts.path + suffix)) chmodSync(opts.path + suffix, FILE_MODE)
  // Metering (request counters, concurrency slots, token totals, usage records) is written on almost
  // every request. Its own connection commits with NORMAL: in WAL mode every commit still survives
  // the process being killed; only a power cut can lose the last ones, as it would lose the usage
  // records still buffered in memory. With FULL each commit is an fsync on the event loop (≈ 2 ms).
  // An in-memory database is private to its connection, so it has the one.
  const meteringDb = memory ? db : openConnection(opts.path, 'NORMAL', busyTimeoutMs)

  const { one, all, run } = statementsOf(db)
  const metering = statementsOf(meteringDb)
  const getUser = (username: string): UserRecord | null => {
    const r = one(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE u.username = :username`, { username })
    return r ? toUser(r) : null
  }
  const getKey = (id: string): ApiKeyRecord | null => {
    const r = one('SELECT * FROM api_keys WHERE id = :id', { id })
    return r ? toApiKey(r) : null
  }

  const updateUser = db.transaction((username: string, patch: Parameters<StoreBackend['updateUser']>[1], now: number): UserRecord | null =>
    {
    const update = userPatchUpdate(username, patch, now, sqlValue)
    if (run(update.sql, update.params) === 0) return null
    if (patch.failedCount !== undefined || patch.lockedUntil !== undefined) {
      const cur = toFailureState(one('SELECT * FROM login_failures WHERE username = :username', { username }))
      run(`INSERT INTO login_failures (username, failed_count, locked_until, lock_at_count) VALUES (:username, :c, :l, NULL)
           ON CONFLICT (username) DO UPDATE SET failed_count = :c, locked_until = :l, lock_at_count = NULL`,
      { username, c: patch.failedCount ?? cur.failedCount, l: patch.lockedUntil === undefined ? cur.lockedUntil : patch.lockedUntil })
    }
    return getUser(username)
  })

  const acquire = meteringDb.transaction((key: string, holder: string, limit: number, expiresAt: number, now: number): boolean => {
    metering.run('DELETE FROM state_slots WHERE key = :key AND expires_at <= :now', { key, now })
    const n = Number(metering.one('SELECT count(*) AS n FROM state_slots WHERE key = :key', { key })?.n ?? 0)
    if (n >= limit) return false
    metering.run('INSERT INTO state_slots (key, holder, expires_at) VALUES (:key, :holder, :expiresAt)', { key, holder, expiresAt })
    return true
  })

  const insertUsage = meteringDb.transaction((records: readonly UsageRecord[]) => {
    for (const r of records) metering.run(USAGE_INSERT, { ...r, incomplete: r.incomplete ? 1 : 0 })
  })

  // counters, slots and totals go through the metering connection; a revocation through the durable one
  const state: StatePrimitives = {
    hit: async (key, windowMs, now) => {
      const r = metering.one(STATE_HIT, { key, now, resetAt: now + windowMs })
      return { count: Number(r?.count), resetAt: Number(r?.reset_at) }
    },
    acquire: async (key, holder, limit, expiresAt, now) => acquire.immediate(key, holder, limit, expiresAt, now),
    // adding 0 is a read: no write on the request's path
    add: async (key, amount, expiresAt, now) => amount === 0
      ? Number(metering.one(STATE_SUM, { key, now })?.total ?? 0)
      : Number(metering.one(STATE_ADD, { key, amount, expiresAt, now })?.total),
    renew: async (key, holder, expiresAt, now) =>
      metering.run('UPDATE state_slots SET expires_at = :expiresAt WHERE key = :key AND holder = :holder AND expires_at > :now',
        { key, holder, expiresAt, now }) === 1,
    release: async (key, holder) => { metering.run('DELETE FROM state_slots WHERE key = :key AND holder = :holder', { key, holder }) },
    revoke: async (id, until) => { run(STATE_REVOKE, { id, until }) },
    isRevoked: async (id, now) => one('SELECT 1 AS x FROM state_revoked WHERE id = :id AND until_ms > :now', { id, now }) !== undefined,
    sweep: async (now) => { meteringDb.transaction(() => { for (const sql of STATE_SWEEP) metering.run(sql, { now }) }).immediate() }
  }

  return {
    kind: 'sqlite',
    state,
    migrate: async () => {
      db.transaction(() => {
        db.exec(MIGRATIONS_TABLE_DDL)
        const applied = all('SELECT version FROM schema_migrations').map((r) => Number(r.version))
        for (const m of pendingMigrations(applied)) {
          db.exec(m.sqlite)
          run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)', { v: m.version, n: m.name, t: Date.now() })
        }
      }).immediate()
    },
    ping: async () => {
      try { return one('SELECT 1 AS ok')?.ok === 1 } catch { return false }
    },
    close: async () => {
      if (meteringDb.open) meteringDb.close()
      if (db.open) db.close()
    },

    createUser: async (u, now) => {
      try {
        run(`INSERT INTO users (id, username, roles, status, source, password_hash, totp_enrolled, session_epoch, created_at,
                   updated_at, password_must_change)
             VALUES (:id, :username, :roles, 'active', :source, :hash, 0, 0, :now, :now, :mustChange)`,
        { id: randomUUID(), username: u.username, roles: JSON.stringify(u.roles), source: u.source ?? 'local', hash: u.passwordHash,
          now, mustChange: u.passwordMustChange === true ? 1 : 0 })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('a user with this name already exists')
        throw err
      }
      return getUser(u.username) as UserRecord
    },
    getUser: async (username) => getUser(username),
    listUsers: async () => all(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} ORDER BY u.username`).map(toUser),
    countUsers: async () => Number(one('SELECT count(*) AS n FROM users')?.n ?? 0),
    updateUser: async (username, patch, now) => updateUser.immediate(username, patch, now),
    recordFailure: async (username, max, lockMs, now) => {
      const r = one(RECORD_FAILURE, { username, max, now, lockUntil: now + lockMs }) as Row
      const failedCount = Number(r.failed_count)
      return { ...toFailureState(r), justLocked: r.lock_at_count !== null && Number(r.lock_at_count) === failedCount }
    },
    failureState: async (username) => toFailureState(one('SELECT * FROM login_failures WHERE username = :username', { username })),
    resetFailures: async (username) => { run('DELETE FROM login_failures WHERE username = :username', { username }) },
    claimTotpStep: async (username, step, now) => run(CLAIM_TOTP_STEP, { username, step, now }) === 1,

    createSession: async (s) => {
      try {
        run(`INSERT INTO sessions (id, username, created_at, expires_at, last_seen_at, revoked_at, source_ip)
             VALUES (:id, :username, :createdAt, :expiresAt, :lastSeenAt, NULL, :sourceIp)`, { ...s })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('a session with this id already exists')
        throw err
      }
    },
    getSession: async (id) => {
      const r = one('SELECT * FROM sessions WHERE id = :id', { id })
      return r ? toSession(r) : null
    },
    getSessionWithUser: async (id) => {
      const r = one(SESSION_WITH_USER, { id })
      return r ? toSessionWithUser(r) : null
    },
    // last-seen and last-used times are activity, like metering: a touch lost to a power cut only makes
    // a session look idle sooner
    touchSession: async (id, now) => {
      metering.run('UPDATE sessions SET last_seen_at = :now WHERE id = :id AND last_seen_at < :now', { id, now })
    },
    revokeSession: async (id, now) => run('UPDATE sessions SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL', { id, now }) === 1,
    revokeUserSessions: async (username, now) =>
      run('UPDATE sessions SET revoked_at = :now WHERE username = :username AND revoked_at IS NULL', { username, now }),
    listSessions: async (username) =>
      all('SELECT * FROM sessions WHERE username = :username ORDER BY created_at, id', { username }).map(toSession),

    createApiKey: async (k, now) => {
      const id = randomUUID()
      try {
        run(`INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at, expires_at)
             VALUES (:id, :name, :role, :keyHash, :prefix, :now, :expiresAt)`, { id, ...k, now })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('an API key with this hash already exists')
        throw err
      }
      return getKey(id) as ApiKeyRecord
    },
    getApiKeyByHash: async (keyHash) => {
      const r = one('SELECT * FROM api_keys WHERE key_hash = :keyHash', { keyHash })
      return r ? toApiKey(r) : null
    },
    getApiKey: async (id) => getKey(id),
    listApiKeys: async () => all('SELECT * FROM api_keys ORDER BY created_at, id').map(toApiKey),
    revokeApiKey: async (id, now) => run('UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL', { id, now }) === 1,
    touchApiKey: async (id, now) => { metering.run('UPDATE api_keys SET last_used_at = :now WHERE id = :id', { id, now }) },
    setApiKeyGrace: async (id, graceUntil, replacedBy) =>
      run(`UPDATE api_keys SET grace_until = :graceUntil, replaced_by = :replacedBy
           WHERE id = :id AND revoked_at IS NULL AND replaced_by IS NULL`, { id, graceUntil, replacedBy }) === 1,

    insertUsage: async (records) => {
      insertUsage.immediate(records)
    },
    usageSummary: async (since, by) => all(usageSummarySql(by), { since }).map(toUsageGroup),
    usageOf: async (credential, identity, since) => toUsageGroup(one(USAGE_OF, { credential, identity, since }) ?? {}),
    deleteUsageBefore: async (before) => run('DELETE FROM usage_records WHERE at < :before', { before }),
    purgeEnded: async (before) => db.transaction(() => ({
      sessions: run('DELETE FROM sessions WHERE expires_at < :before OR revoked_at < :before', { before }),
      // a rotated-out key ends when its grace does
      apiKeys: run('DELETE FROM api_keys WHERE revoked_at < :before OR expires_at < :before OR grace_until < :before', { before })
    })).immediate(),
    deleteUser: async (username) => db.transaction(() => {
      if (run('DELETE FROM users WHERE username = :username', { username }) === 0) return null
      run('DELETE FROM login_failures WHERE username = :username', { username })
      return { sessions: run('DELETE FROM sessions WHERE username = :username', { username }) }
    }).immediate()
  }
}
