// The PostgreSQL backend: what several replicas share. Every security-relevant primitive is a single
// statement (row locks make it atomic under READ COMMITTED); the two multi-statement operations run
// in a transaction, and slot counting takes a per-key advisory lock so two replicas cannot both see
// "one slot left".
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { errors } from '../errors.js'
import { MIGRATIONS_TABLE_DDL, pendingMigrations } from './migrations.js'
import { bindNamed } from './named-params.js'
import { USER_COLUMNS, USER_FROM, toApiKey, toFailureState, toSession, toSessionWithUser, toUser, SESSION_WITH_USER,
  toUsageGroup, userPatchUpdate } from './rows.js'
import { CLAIM_TOTP_STEP, RECORD_FAILURE, STATE_ADD, STATE_HIT, STATE_SUM, STATE_REVOKE, STATE_SWEEP, USAGE_OF,
  usageInsertMany, usageRowsPerInsert, usageSummarySql } from './sql.js'
import type { StatePrimitives } from '../cluster-state/types.js'
import type { ApiKeyRecord, StoreBackend, UserRecord } from './types.js'

export interface PostgresStoreOptions {
  /** postgres://user[:password]@host:port/db[?options=-c search_path=NAME] */
  url: string
  /** schema to use (and create on migrate); overrides a search_path in the URL */
  schema?: string
  /** pool size; each replica holds up to this many connections */
  poolSize?: number
  /** called with errors of idle pooled connections (the pool replaces them) */
  onPoolError?: (err: Error) => void
}

type Row = Record<string, unknown>
type Queryable = Pick<pg.PoolClient, 'query'>

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const INT8_OID = 20

/** The schema named by the URL's `options=-c search_path=NAME`, if any. */
export function schemaFromUrl (url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? ''
  return /search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(options)?.[1]
}

// connection exception (08), operator intervention such as a shutdown or restart (57P0x), and the
// socket-level failures the driver reports before a server answers
const UNREACHABLE_SQLSTATE = /^(08|57P0)/
const UNREACHABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN'])
const UNREACHABLE_MESSAGE = /Connection terminated|connection error|timeout exceeded when trying to connect|Connection refused/i

/** True when `err` says the server could not be reached or went away, rather than that a statement failed. */
export function isUnreachable (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : ''
  if (UNREACHABLE_SQLSTATE.test(code) || UNREACHABLE_SOCKET.has(code)) return true
  return code === '' && typeof e?.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)
}

/** Re-raises a lost server as the 503 the pipeline answers with; a statement's own error passes unchanged. */
function unavailable (err: unknown): never {
  // the client sees only the 503; the cause stays for the log and for the CLI's one-line reason
  if (isUnreachable(err)) throw Object.assign(new errors.STORE_UNAVAILABLE(), { cause: err })
  throw err
}

function withSchema (url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.delete('options')
  const sep = u.search ? '&' : '?'
  return u.toString() + sep + 'options=' + encodeURIComponent(`-c search_path=${schema}`)
}

function isUniqueViolation (err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505'
}

export function createPostgresStore (opts: PostgresStoreOptions): StoreBackend {
  const schema = opts.schema ?? schemaFromUrl(opts.url)
  if (schema !== undefined && !IDENT.test(schema)) throw new errors.STORE(`invalid PostgreSQL schema name: ${schema}`)
  const pool = new pg.Pool({
    connectionString: opts.schema !== undefined ? withSchema(opts.url, opts.schema) : opts.url,
    max: opts.poolSize ?? 10,
    // epoch milliseconds live in BIGINT columns; they are far below 2^53, so numbers are exact
    types: { getTypeParser: ((oid: number, format?: string) => oid === INT8_OID ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser }
  })
  pool.on('error', (err) => opts.onPoolError?.(err))

  const query = async (sql: string, params: Row = {}, on: Queryable = pool): Promise<pg.QueryResult<Row>> => {
    const q = bindNamed(sql, params)
    return await on.query<Row>(q.text, q.values).catch(unavailable)
  }
  const one = async (sql: string, params: Row = {}, on?: Queryable): Promise<Row | undefined> => (await query(sql, params, on)).rows[0]
  const all = async (sql: string, params: Row = {}): Promise<Row[]> => (await query(sql, params)).rows
  const run = async (sql: string, params: Row = {}, on?: Queryable): Promise<number> => (await query(sql, params, on)).rowCount ?? 0
  const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect().catch(unavailable)
    // the pool listens for errors of idle clients only: a connection the server ends between two
    // statements (a restart) would otherwise be an unhandled 'error' event; the next statement
    // fails instead, and the pool drops the client on release
    const lost = (): void => {}
    c.on('error', lost)
    try {
      await c.query('BEGIN')
      const out = await fn(c)
      await c.query('COMMIT')
      return out
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      c.off('error', lost)
      c.release()
    }
  }
  const getUser = async (username: string, on?: Queryable): Promise<UserRecord | null> => {
    const r = await one(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} WHERE u.username = :username`, { username }, on)
    return r ? toUser(r) : null
  }
  const getKey = async (id: string): Promise<ApiKeyRecord | null> => {
    const r = await one('SELECT * FROM api_keys WHERE id = :id', { id })
    return r ? toApiKey(r) : null
  }

  const state: StatePrimitives = {
    hit: async (key, windowMs, now) => {
      const r = await one(STATE_HIT, { key, now, resetAt: now + windowMs })
      return { count: Number(r?.count), resetAt: Number(r?.reset_at) }
    },
    acquire: async (key, holder, limit, expiresAt, now) => await tx(async (c) => {
      await query("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse:slot:' || :key, 0))", { key }, c)
      await query('DELETE FROM state_slots WHERE key = :key AND expires_at <= :now', { key, now }, c)
      const n = Number((await one('SELECT count(*) AS n FROM state_slots WHERE key = :key', { key }, c))?.n ?? 0)
      if (n >= limit) return false
      await query('INSERT INTO state_slots (key, holder, expires_at) VALUES (:key, :holder, :expiresAt)', { key, holder, expiresAt }, c)
      return true
    }),
    // adding 0 is a read: no row written on the request's path
    add: async (key, amount, expiresAt, now) => amount === 0
      ? Number((await one(STATE_SUM, { key, now }))?.total ?? 0)
      : Number((await one(STATE_ADD, { key, amount, expiresAt, now }))?.total),
    renew: async (key, holder, expiresAt, now) =>
      await run('UPDATE state_slots SET expires_at = :expiresAt WHERE key = :key AND holder = :holder AND expires_at > :now',
        { key, holder, expiresAt, now }) === 1,
    release: async (key, holder) => { await run('DELETE FROM state_slots WHERE key = :key AND holder = :holder', { key, holder }) },
    revoke: async (id, until) => { await run(STATE_REVOKE, { id, until }) },
    isRevoked: async (id, now) =>
      (await one('SELECT 1 AS x FROM state_revoked WHERE id = :id AND until_ms > :now', { id, now })) !== undefined,
    sweep: async (now) => { for (const sql of STATE_SWEEP) await run(sql, { now }) }
  }

  return {
    kind: 'postgres',
    state,
    migrate: async () => {
      await tx(async (c) => {
        // one migrator at a time per schema: replicas starting together must not race
        await query("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse:migrate:' || :schema, 0))", { schema: schema ?? '' }, c)
        if (schema !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
        await c.query(MIGRATIONS_TABLE_DDL)
        const applied = (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version))
        for (const m of pendingMigrations(applied)) {
          await c.query(m.postgres)
          await query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)',
            { v: m.version, n: m.name, t: Date.now() }, c)
        }
      })
    },
    ping: async () => {
      try { return (await one('SELECT 1 AS ok'))?.ok === 1 } catch { return false }
    },
    close: async () => { await pool.end() },

    createUser: async (u, now) => {
      try {
        await run(`INSERT INTO users (id, username, roles, status, source, password_hash, totp_enrolled, session_epoch, created_at,
                   updated_at, password_must_change)
                   VALUES (:id, :username, :roles, 'active', :source, :hash, FALSE, 0, :now, :now, :mustChange)`,
        { id: randomUUID(), username: u.username, roles: JSON.stringify(u.roles), source: u.source ?? 'local', hash: u.passwordHash,
          now, mustChange: u.passwordMustChange === true })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('a user with this name already exists')
        throw err
      }
      return await getUser(u.username) as UserRecord
    },
    getUser: async (username) => await getUser(username),
    listUsers: async () => (await all(`SELECT ${USER_COLUMNS} FROM ${USER_FROM} ORDER BY u.username`)).map(toUser),
    countUsers: async () => Number((await one('SELECT count(*) AS n FROM users'))?.n ?? 0),
    updateUser: async (username, patch, now) => await tx(async (c) => {
      const update = userPatchUpdate(username, patch, now, (v) => (Array.isArray(v) ? JSON.stringify(v) : v))
      if (await run(update.sql, update.params, c) === 0) return null
      if (patch.failedCount !== undefined || patch.lockedUntil !== undefined) {
        const cur = toFailureState(await one('SELECT * FROM login_failures WHERE username = :username FOR UPDATE', { username }, c))
        await run(`INSERT INTO login_failures (username, failed_count, locked_until, lock_at_count)
                    VALUES (:username, :c, CAST(:l AS BIGINT), NULL)
                   ON CONFLICT (username) DO UPDATE SET failed_count = EXCLUDED.failed_count, locked_until = EXCLUDED.locked_until,
                     lock_at_count = NULL`,
        { username, c: patch.failedCount ?? cur.failedCount, l: patch.lockedUntil === undefined ? cur.lockedUntil : patch.lockedUntil }, c)
      }
      return await getUser(username, c)
    }),
    recordFailure: async (username, max, lockMs, now) => {
      const r = await one(RECORD_FAILURE, { username, max, now, lockUntil: now + lockMs }) as Row
      const failedCount = Number(r.failed_count)
      return { ...toFailureState(r), justLocked: r.lock_at_count !== null && Number(r.lock_at_count) === failedCount }
    },
    failureState: async (username) => toFailureState(await one('SELECT * FROM login_failures WHERE username = :username', { username })),
    resetFailures: async (username) => { await run('DELETE FROM login_failures WHERE username = :username', { username }) },
    claimTotpStep: async (username, step, now) => await run(CLAIM_TOTP_STEP, { username, step, now }) === 1,

    createSession: async (s) => {
      try {
        await run(`INSERT INTO sessions (id, username, created_at, expires_at, last_seen_at, revoked_at, source_ip)
                   VALUES (:id, :username, :createdAt, :expiresAt, :lastSeenAt, NULL, :sourceIp)`, { ...s })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('a session with this id already exists')
        throw err
      }
    },
    getSession: async (id) => {
      const r = await one('SELECT * FROM sessions WHERE id = :id', { id })
      return r ? toSession(r) : null
    },
    getSessionWithUser: async (id) => {
      const r = await one(SESSION_WITH_USER, { id })
      return r ? toSessionWithUser(r) : null
    },
    touchSession: async (id, now) =>
      { await run('UPDATE sessions SET last_seen_at = :now WHERE id = :id AND last_seen_at < :now', { id, now }) },
    revokeSession: async (id, now) =>
      await run('UPDATE sessions SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL', { id, now }) === 1,
    revokeUserSessions: async (username, now) =>
      await run('UPDATE sessions SET revoked_at = :now WHERE username = :username AND revoked_at IS NULL', { username, now }),
    listSessions: async (username) =>
      (await all('SELECT * FROM sessions WHERE username = :username ORDER BY created_at, id', { username })).map(toSession),

    createApiKey: async (k, now) => {
      const id = randomUUID()
      try {
        await run(`INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at, expires_at)
                   VALUES (:id, :name, :role, :keyHash, :prefix, :now, :expiresAt)`, { id, ...k, now })
      } catch (err) {
        if (isUniqueViolation(err)) throw new errors.CONFLICT('an API key with this hash already exists')
        throw err
      }
      return await getKey(id) as ApiKeyRecord
    },
    getApiKeyByHash: async (keyHash) => {
      const r = await one('SELECT * FROM api_keys WHERE key_hash = :keyHash', { keyHash })
      return r ? toApiKey(r) : null
    },
    getApiKey: async (id) => await getKey(id),
    listApiKeys: async () => (await all('SELECT * FROM api_keys ORDER BY created_at, id')).map(toApiKey),
    revokeApiKey: async (id, now) =>
      await run('UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL', { id, now }) === 1,
    touchApiKey: async (id, now) => { await run('UPDATE api_keys SET last_used_at = :now WHERE id = :id', { id, now }) },
    setApiKeyGrace: async (id, graceUntil, replacedBy) =>
      await run(`UPDATE api_keys SET grace_until = :graceUntil, replaced_by = :replacedBy
                 WHERE id = :id AND revoked_at IS NULL AND replaced_by IS NULL`, { id, graceUntil, replacedBy }) === 1,

    insertUsage: async (records) => {
      if (records.length === 0) return
      // PostgreSQL takes at most 65,535 parameters in a statement: a larger batch goes in parts, in one transaction
      if (records.length <= usageRowsPerInsert) {
        const q = usageInsertMany(records)
        await pool.query(q.text, q.values).catch(unavailable)
        return
      }
      await tx(async (c) => {
        for (let i = 0; i < records.length; i += usageRowsPerInsert) {
          const q = usageInsertMany(records.slice(i, i + usageRowsPerInsert))
          await c.query(q.text, q.values).catch(unavailable)
        }
      })
    },
    usageSummary: async (since, by) => (await all(usageSummarySql(by), { since })).map(toUsageGroup),
    usageOf: async (credential, identity, since) => toUsageGroup((await one(USAGE_OF, { credential, identity, since })) ?? {}),
    deleteUsageBefore: async (before) => await run('DELETE FROM usage_records WHERE at < :before', { before }),
    purgeEnded: async (before) => await tx(async (c) => ({
      sessions: await run('DELETE FROM sessions WHERE expires_at < :before OR revoked_at < :before', { before }, c),
      // a rotated-out key ends when its grace does
      apiKeys: await run('DELETE FROM api_keys WHERE revoked_at < :before OR expires_at < :before OR grace_until < :before',
        { before }, c)
    })),
    deleteUser: async (username) => await tx(async (c) => {
      if (await run('DELETE FROM users WHERE username = :username', { username }, c) === 0) return null
      await run('DELETE FROM login_failures WHERE username = :username', { username }, c)
      return { sessions: await run('DELETE FROM sessions WHERE username = :username', { username }, c) }
    })
  }
}
