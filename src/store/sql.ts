// SQL shared by both backends. Parameters are written `:name`; better-sqlite3 takes them natively and
// postgres.ts rewrites them to `$n` (named-params.ts). CAST(... AS BIGINT) where PostgreSQL could not
// infer a parameter's type.
// Each atomic primitive is one statement, so it is atomic on either database without a transaction.

// A lock that has run out counts as no lock: the failure after it starts a fresh run at 1, so
// "reset when expired" and "count" are one statement and a parallel burst cannot reset twice.
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

export const STATE_SWEEP = [
  'DELETE FROM state_counters WHERE reset_at <= :now',
  'DELETE FROM state_slots WHERE expires_at <= :now',
  'DELETE FROM state_revoked WHERE until_ms <= :now'
]
