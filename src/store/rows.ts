// Database rows → records, shared by both backends. SQLite gives integers and JSON text, PostgreSQL
// gives booleans and parsed JSONB; both are normalized here so the records are identical.
import type { ApiKeyRecord, SessionRecord, UsageGroup, UserRecord, UserStatus } from './types.js'

type Row = Record<string, unknown>

const num = (v: unknown): number => Number(v)
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

function roles (v: unknown): string[] {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v
  return Array.isArray(parsed) ? parsed.map(String) : []
}

/** Columns a user query selects: the user row joined with its failure counter. */
export const USER_COLUMNS =
  'u.id, u.username, u.roles, u.status, u.source, u.password_hash, u.totp_secret_enc, u.totp_enrolled, u.totp_last_step, ' +
  'u.session_epoch, u.last_login_at, u.created_at, u.updated_at, u.password_must_change, ' +
  'COALESCE(f.failed_count, 0) AS failed_count, f.locked_until AS locked_until'

export const USER_FROM = 'users u LEFT JOIN login_failures f ON f.username = u.username'

export function toUser (r: Row): UserRecord {
  return {
    id: String(r.id),
    username: String(r.username),
    roles: roles(r.roles),
    status: String(r.status) as UserStatus,
    source: r.source === 'oidc' ? 'oidc' : 'local',
    passwordHash: String(r.password_hash),
    totpSecretEnc: strOrNull(r.totp_secret_enc),
    totpEnrolled: Boolean(r.totp_enrolled),
    totpLastStep: numOrNull(r.totp_last_step),
    passwordMustChange: Boolean(r.password_must_change),
    sessionEpoch: num(r.session_epoch),
    failedCount: num(r.failed_count),
    lockedUntil: numOrNull(r.locked_until),
    lastLoginAt: numOrNull(r.last_login_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at)
  }
}

export function toSession (r: Row): SessionRecord {
  return {
    id: String(r.id),
    username: String(r.username),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    lastSeenAt: num(r.last_seen_at),
    revokedAt: numOrNull(r.revoked_at),
    sourceIp: String(r.source_ip)
  }
}

/**
 * A session and its user in one read: what every session-authenticated request checks. One
 * statement instead of two is one SQLite read transaction (or one PostgreSQL round trip) less.
 * The session's columns carry an `s_` prefix; the user's are USER_COLUMNS, null when the user is gone.
 */
export const SESSION_WITH_USER =
  'SELECT s.id AS s_id, s.username AS s_username, s.created_at AS s_created_at, s.expires_at AS s_expires_at, ' +
  's.last_seen_at AS s_last_seen_at, s.revoked_at AS s_revoked_at, s.source_ip AS s_source_ip, ' + USER_COLUMNS +
  ' FROM sessions s LEFT JOIN users u ON u.username = s.username LEFT JOIN login_failures f ON f.username = u.username' +
  ' WHERE s.id = :id'

export function toSessionWithUser (r: Row): { session: SessionRecord, user: UserRecord | null } {
  return {
    session: toSession({
      id: r.s_id, username: r.s_username, created_at: r.s_created_at, expires_at: r.s_expires_at,
      last_seen_at: r.s_last_seen_at, revoked_at: r.s_revoked_at, source_ip: r.s_source_ip
    }),
    user: r.id === null || r.id === undefined ? null : toUser(r)
  }
}

export function toApiKey (r: Row): ApiKeyRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: String(r.role),
    keyHash: String(r.key_hash),
    prefix: String(r.prefix),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    lastUsedAt: numOrNull(r.last_used_at),
    revokedAt: numOrNull(r.revoked_at),
    graceUntil: numOrNull(r.grace_until),
    replacedBy: r.replaced_by === null || r.replaced_by === undefined ? null : String(r.replaced_by)
  }
}

/** Maps a `usageSummary` row (group, requests, input, output). */
export function toUsageGroup (r: Row): UsageGroup {
  return { group: r.grp === null || r.grp === undefined ? null : String(r.grp), requests: num(r.requests),
    inputTokens: num(r.input_tokens), outputTokens: num(r.output_tokens) }
}

export function toFailureState (r: Row | undefined): { failedCount: number, lockedUntil: number | null } {
  return r ? { failedCount: num(r.failed_count), lockedUntil: numOrNull(r.locked_until) } : { failedCount: 0, lockedUntil: null }
}

/** The user columns an updateUser patch may set, mapped to their column names. */
export const USER_PATCH_COLUMNS = {
  roles: 'roles',
  status: 'status',
  passwordHash: 'password_hash',
  totpSecretEnc: 'totp_secret_enc',
  totpEnrolled: 'totp_enrolled',
  totpLastStep: 'totp_last_step',
  lastLoginAt: 'last_login_at',
  passwordMustChange: 'password_must_change'
} as const

/**
 * The UPDATE an updateUser patch becomes, for both backends: only the fields the patch sets, plus
 * updated_at and, on request, the epoch bump. `toSql` turns a value into the backend's parameter
 * (roles are JSON; SQLite also stores booleans as 0/1).
 */
export function userPatchUpdate (
  username: string, patch: Partial<Record<keyof typeof USER_PATCH_COLUMNS, unknown>> & { bumpEpoch?: boolean }, now: number,
  toSql: (v: unknown) => unknown
): { sql: string, params: Row } {
  const sets = ['updated_at = :now']
  const params: Row = { username, now }
  for (const [field, column] of Object.entries(USER_PATCH_COLUMNS)) {
    const v = (patch as Record<string, unknown>)[field]
    if (v === undefined) continue
    sets.push(`${column} = :${field}`)
    params[field] = toSql(v)
  }
  if (patch.bumpEpoch === true) sets.push('session_epoch = session_epoch + 1')
  return { sql: `UPDATE users SET ${sets.join(', ')} WHERE username = :username`, params }
}
