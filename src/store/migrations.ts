// Numbered schema migrations, one list for both backends so their versions never drift apart.
// Append only: a released migration is never edited; a change is a new, higher version.
import { errors } from '../errors.js'

export interface Migration {
  version: number
  name: string
  sqlite: string
  postgres: string
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'identity',
    sqlite: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        roles TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        password_hash TEXT NOT NULL,
        totp_secret_enc TEXT,
        totp_enrolled INTEGER NOT NULL DEFAULT 0,
        totp_last_step INTEGER,
        session_epoch INTEGER NOT NULL DEFAULT 0,
        last_login_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- one failure counter per username, known or not, so unknown accounts lock like real ones
      CREATE TABLE login_failures (
        username TEXT PRIMARY KEY,
        failed_count INTEGER NOT NULL,
        locked_until INTEGER,
        lock_at_count INTEGER
      );
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        revoked_at INTEGER,
        source_ip TEXT NOT NULL
      );
      CREATE INDEX sessions_username ON sessions (username);
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        revoked_at INTEGER
      );`,
    postgres: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        roles JSONB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        password_hash TEXT NOT NULL,
        totp_secret_enc TEXT,
        totp_enrolled BOOLEAN NOT NULL DEFAULT FALSE,
        totp_last_step BIGINT,
        session_epoch INTEGER NOT NULL DEFAULT 0,
        last_login_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE login_failures (
        username TEXT PRIMARY KEY,
        failed_count INTEGER NOT NULL,
        locked_until BIGINT,
        lock_at_count INTEGER
      );
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        revoked_at BIGINT,
        source_ip TEXT NOT NULL
      );
      CREATE INDEX sessions_username ON sessions (username);
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT
      );`
  },
  {
    version: 2,
    name: 'shared-state',
    sqlite: `
      CREATE TABLE state_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
      CREATE INDEX state_counters_reset_at ON state_counters (reset_at);
      CREATE TABLE state_slots (key TEXT NOT NULL, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key, holder));
      CREATE INDEX state_slots_expires_at ON state_slots (expires_at);
      CREATE TABLE state_revoked (id TEXT PRIMARY KEY, until_ms INTEGER NOT NULL);
      CREATE INDEX state_revoked_until ON state_revoked (until_ms);
      CREATE TABLE state_once (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE INDEX state_once_expires_at ON state_once (expires_at);`,
    postgres: `
      CREATE TABLE state_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at BIGINT NOT NULL);
      CREATE INDEX state_counters_reset_at ON state_counters (reset_at);
      CREATE TABLE state_slots (key TEXT NOT NULL, holder TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (key, holder));
      CREATE INDEX state_slots_expires_at ON state_slots (expires_at);
      CREATE TABLE state_revoked (id TEXT PRIMARY KEY, until_ms BIGINT NOT NULL);
      CREATE INDEX state_revoked_until ON state_revoked (until_ms);
      CREATE TABLE state_once (key TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
      CREATE INDEX state_once_expires_at ON state_once (expires_at);`
  },
  {
    version: 3,
    name: 'usage',
    sqlite: `
      CREATE TABLE usage_records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        identity TEXT NOT NULL,
        credential TEXT NOT NULL,
        role TEXT NOT NULL,
        model TEXT,
        upstream TEXT,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        status INTEGER NOT NULL,
        incomplete INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX usage_records_at ON usage_records (at);
      CREATE INDEX usage_records_identity ON usage_records (credential, identity, at);
      CREATE TABLE state_sums (key TEXT PRIMARY KEY, total INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX state_sums_expires_at ON state_sums (expires_at);
      ALTER TABLE api_keys ADD COLUMN grace_until INTEGER;
      ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;`,
    postgres: `
      CREATE TABLE usage_records (
        id BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
        identity TEXT NOT NULL,
        credential TEXT NOT NULL,
        role TEXT NOT NULL,
        model TEXT,
        upstream TEXT,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        status INTEGER NOT NULL,
        incomplete BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE INDEX usage_records_at ON usage_records (at);
      CREATE INDEX usage_records_identity ON usage_records (credential, identity, at);
      CREATE TABLE state_sums (key TEXT PRIMARY KEY, total BIGINT NOT NULL, expires_at BIGINT NOT NULL);
      CREATE INDEX state_sums_expires_at ON state_sums (expires_at);
      ALTER TABLE api_keys ADD COLUMN grace_until BIGINT;
      ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;`
  },
  {
    version: 4,
    name: 'user-source',
    // where an account comes from: `local` (password) or `oidc` (single sign-on, no local password)
    sqlite: `ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));`,
    postgres: `ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));`
  },
  {
    // purgeEnded finds ended sessions and retired keys by time without a full scan
    version: 5,
    name: 'retention',
    sqlite: `
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
      CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
      CREATE INDEX api_keys_expires_at ON api_keys (expires_at);
      CREATE INDEX api_keys_revoked_at ON api_keys (revoked_at);`,
    postgres: `
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
      CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
      CREATE INDEX api_keys_expires_at ON api_keys (expires_at);
      CREATE INDEX api_keys_revoked_at ON api_keys (revoked_at);`
  },
  {
    version: 6,
    name: 'one-time-passwords',
    // set for a generated or temporary password; cleared when its owner chooses one
    sqlite: 'ALTER TABLE users ADD COLUMN password_must_change INTEGER NOT NULL DEFAULT 0;',
    postgres: 'ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;'
  }
]

/** The migrations still to apply, in order; refuses a database written by a newer Gatehouse. */
export function pendingMigrations (applied: Iterable<number>, list: readonly Migration[] = migrations): Migration[] {
  const done = new Set(applied)
  const latest = list.reduce((m, x) => Math.max(m, x.version), 0)
  for (const v of done) {
    if (v > latest) throw new errors.STORE(`database schema version ${v} is newer than this Gatehouse knows (${latest})`)
  }
  return [...list].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version))
}

/** The table that records applied versions (same DDL on both backends). */
export const MIGRATIONS_TABLE_DDL =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)'
