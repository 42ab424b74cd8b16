// SQL shared by both backends. Parameters are written `:name`; better-sqlite3 takes them natively and
// postgres.ts rewrites them to `$n` (named-params.ts). CAST(... AS BIGINT) where PostgreSQL could not
// infer a parameter's type.
// Each atomic primitive is one statement, so it is atomic on either database without a transaction.

// A lock that has run out counts as no lock: the failure after it starts a fresh run at 1, so
// "reset when expired" and "count" are one statement and a parallel burst cannot reset twice.
import type { UsageRecord } from './types.js'

const EXPIRED = 'login_failures.locked_until IS NOT NULL AND login_failures.locked_until <= :now'
const NEXT_COUNT = `CASE WHEN ${EXPIRED} THEN 1 ELSE login_failures.failed_count + 1 END`
/** a new lock only when the count reaches max and no lock is active (an active lock is never extended) */
const SHOULD_LOCK = `${NEXT_COUNT} >= :max AND (login_failures.locked_until IS NULL OR login_failures.locked_until <= :now)`

export const RECORD_FAILURE = `
  INSERT INTO login_failures (username, failed_count, locked_until, lock_at_count)
  VALUES (:username, 1, CASE WHEN 1 >= :max THEN CAST(:lockUntil AS BIGINT) END, CASE WHEN 1 >= :max THEN 1 END)
  ON CONFLICT (username) DO UPDATE SET
    failed_count = ${NEXT_COUNT},
    locked_until = CASE WHEN ${SHOULD_LOCK} THEN CAST(:lockUntil AS BIGINT) WHEN ${EXPIRED} THEN NULL ELSE login_failures.locked_until END,
    lock_at_count = CASE WHEN ${SHOULD_LOCK} THEN ${NEXT_COUNT} WHEN ${EXPIRED} THEN NULL ELSE login_failures.lock_at_count END
  RETURNING failed_count, locked_until, lock_at_count`

/** compare-and-set: only a step strictly after the last accepted one wins */
export const CLAIM_TOTP_STEP = `
  UPDATE users SET totp_last_step = :step, updated_at = :now
  WHERE username = :username AND (totp_last_step IS NULL OR totp_last_step < :step)`

export const STATE_HIT = `
  INSERT INTO state_counters (key, count, reset_at) VALUES (:key, 1, :resetAt)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN state_counters.reset_at <= :now THEN 1 ELSE state_counters.count + 1 END,
    reset_at = CASE WHEN state_counters.reset_at <= :now THEN :resetAt ELSE state_counters.reset_at END
  RETURNING count, reset_at`

export const STATE_REVOKE = `
  INSERT INTO state_revoked (id, until_ms) VALUES (:id, :until)
  ON CONFLICT (id) DO UPDATE SET until_ms = CASE WHEN state_revoked.until_ms > :until THEN state_revoked.until_ms ELSE :until END`

/** adds to a running total; an expired total restarts from the amount */
export const STATE_ADD = `
  INSERT INTO state_sums (key, total, expires_at) VALUES (:key, :amount, :expiresAt)
  ON CONFLICT (key) DO UPDATE SET
    total = CASE WHEN state_sums.expires_at <= :now THEN :amount ELSE state_sums.total + :amount END,
    expires_at = CASE WHEN state_sums.expires_at <= :now OR state_sums.expires_at < :expiresAt THEN :expiresAt
      ELSE state_sums.expires_at END
  RETURNING total`

/** a running total that has not expired (none: no row) */
export const STATE_SUM = 'SELECT total FROM state_sums WHERE key = :key AND expires_at > :now'

/** a usage record's fields and the columns they are stored in, in the order of the INSERTs below */
const USAGE_FIELDS = [
  ['at', 'at'], ['identity', 'identity'], ['credential', 'credential'], ['role', 'role'], ['model', 'model'],
  ['upstream', 'upstream'], ['inputTokens', 'input_tokens'], ['outputTokens', 'output_tokens'], ['durationMs', 'duration_ms'],
  ['status', 'status'], ['incomplete', 'incomplete']
] as const satisfies ReadonlyArray<readonly [keyof UsageRecord, string]>
const USAGE_INTO = `INSERT INTO usage_records (${USAGE_FIELDS.map(([, c]) => c).join(', ')})`

/** one record, with `:name` placeholders (SQLite runs it once per record, in one transaction) */
export const USAGE_INSERT = `${USAGE_INTO} VALUES (${USAGE_FIELDS.map(([f]) => `:${f}`).join(', ')})`

/** the most records one multi-row INSERT may carry: PostgreSQL binds at most 65,535 parameters */
export const usageRowsPerInsert = Math.floor(65_535 / USAGE_FIELDS.length)

/**
 * Many records in one statement, with PostgreSQL's `$n` placeholders: one round trip per batch (a
 * round trip per record could not keep up with a busy gateway's usage).
 */
export function usageInsertMany (records: readonly UsageRecord[]): { text: string, values: unknown[] } {
  const values: unknown[] = []
  const rows = records.map((r) => `(${USAGE_FIELDS.map(([f]) => `$${values.push(r[f])}`).join(', ')})`)
  return { text: `${USAGE_INTO} VALUES ${rows.join(', ')}`, values }
}

const DAY_MS = 86_400_000
/** the column each `by` groups on; `day` is the UTC day number (days since the epoch) */
export const USAGE_GROUP_COLUMN = {
  user: 'identity', key: 'identity', model: 'model', upstream: 'upstream', day: `CAST(at / ${DAY_MS} AS BIGINT)`
} as const

/** sums per group since a time; `user` and `key` keep only that kind of credential */
export function usageSummarySql (by: keyof typeof USAGE_GROUP_COLUMN): string {
  const col = USAGE_GROUP_COLUMN[by]
  const only = by === 'user' ? " AND credential = 'session'" : by === 'key' ? " AND credential = 'api_key'" : ''
  return `SELECT ${col} AS grp, count(*) AS requests, COALESCE(sum(input_tokens), 0) AS input_tokens,
    COALESCE(sum(output_tokens), 0) AS output_tokens
    FROM usage_records WHERE at >= :since${only} GROUP BY ${col} ORDER BY ${col}`
}

export const USAGE_OF = `SELECT NULL AS grp, count(*) AS requests, COALESCE(sum(input_tokens), 0) AS input_tokens,
  COALESCE(sum(output_tokens), 0) AS output_tokens
  FROM usage_records WHERE credential = :credential AND identity = :identity AND at >= :since`

export const STATE_SWEEP = [
  'DELETE FROM state_sums WHERE expires_at <= :now',
  'DELETE FROM state_counters WHERE reset_at <= :now',
  'DELETE FROM state_slots WHERE expires_at <= :now',
  'DELETE FROM state_revoked WHERE until_ms <= :now'
]
