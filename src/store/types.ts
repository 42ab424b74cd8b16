// The storage interface every backend (SQLite, PostgreSQL) implements; one contract test suite
// (test/store/contract.ts) runs against each. Times are epoch milliseconds. Usernames are stored in
// canonical form (see auth/usernames.ts); the store never canonicalizes on its own.
import type { StatePrimitives } from '../cluster-state/types.js'

export type UserStatus = 'active' | 'disabled'
/** `local`: a password account; `oidc`: created by single sign-on, with no local password */
export type UserSource = 'local' | 'oidc'

export interface UserRecord {
  id: string
  username: string
  roles: string[]
  status: UserStatus
  source: UserSource
  /** empty for `oidc` users: no password ever matches it */
  passwordHash: string
  /** AES-256-GCM ciphertext of the TOTP secret (base64 of iv|tag|ct), null when not enrolled */
  totpSecretEnc: string | null
  totpEnrolled: boolean
  /** the last TOTP time step accepted; a code at or before it is a replay */
  totpLastStep: number | null
  /** a one-time password (generated, or set as temporary): its sessions may only change it */
  passwordMustChange: boolean
  /** bumps on disable, role change, MFA reset, password change: older sessions die */
  sessionEpoch: number
  failedCount: number
  lockedUntil: number | null
  lastLoginAt: number | null
  createdAt: number
  updatedAt: number
}

export interface ApiKeyRecord {
  id: string
  name: string
  role: string
  /** SHA-256 (hex) of the full key; keys have ≥256 bits of entropy so a fast hash is right */
  keyHash: string
  /** first characters after `ghk_`, shown in lists so operators can tell keys apart */
  prefix: string
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
  revokedAt: number | null
  /** set when the key was rotated: it works until then, and is refused like a revoked key after */
  graceUntil: number | null
  /** the id of the key that replaced this one */
  replacedBy: string | null
}

/** One proxied request that reached Ollama. `identity` is the user name or the key name. */
export interface UsageRecord {
  at: number
  identity: string
  credential: 'session' | 'api_key'
  role: string
  model: string | null
  upstream: string | null
  inputTokens: number
  outputTokens: number
  durationMs: number
  status: number
  /** the reply ended without final counts (cut short): the tokens are the last seen, else 0 */
  incomplete: boolean
}

export type UsageGroupBy = 'user' | 'key' | 'model' | 'upstream' | 'day'

export interface UsageGroup {
  /** the user, key, model or upstream name; for `day` the UTC day number (days since the epoch) */
  group: string | null
  requests: number
  inputTokens: number
  outputTokens: number
}

export interface SessionRecord {
  id: string // the JWT jti
  username: string
  createdAt: number
  expiresAt: number
  lastSeenAt: number
  revokedAt: number | null
  sourceIp: string
}

export interface NewUser {
  username: string
  roles: string[]
  passwordHash: string
  passwordMustChange?: boolean
  source?: UserSource
}
export interface NewApiKey { name: string, role: string, keyHash: string, prefix: string, expiresAt: number | null }

export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  migrate: () => Promise<void>
  ping: () => Promise<boolean>
  close: () => Promise<void>

  // users
  createUser: (u: NewUser, now: number) => Promise<UserRecord>
  getUser: (username: string) => Promise<UserRecord | null>
  listUsers: () => Promise<UserRecord[]>
  countUsers: () => Promise<number>
  updateUser: (username: string, patch: Partial<Pick<UserRecord,
    'roles' | 'status' | 'passwordHash' | 'totpSecretEnc' | 'totpEnrolled' | 'totpLastStep' |
    'failedCount' | 'lockedUntil' | 'lastLoginAt' | 'passwordMustChange'>> & { bumpEpoch?: boolean }, now: number) =>
    Promise<UserRecord | null>
  /**
   * Atomically record a failed attempt: increments failedCount, and when it reaches `max` sets
   * lockedUntil = now + lockMs and resets nothing else. Works for unknown usernames too (a shadow
   * counter row), so unknown and known accounts lock alike. Returns the new count and lock.
   * A lock is set only when none is active (an active lock is never extended); the first failure
   * after a lock has run out starts a new count at 1, in the same statement, so parallel failures
   * cannot erase each other's counts. `justLocked` is true for exactly one caller per lock, so
   * "account-locked" is audited once even under concurrency.
   */
  recordFailure: (username: string, max: number, lockMs: number, now: number) =>
    Promise<{ failedCount: number, lockedUntil: number | null, justLocked: boolean }>
  /** state of the failure counter for a username, known or not */
  failureState: (username: string) => Promise<{ failedCount: number, lockedUntil: number | null }>
  resetFailures: (username: string) => Promise<void>
  /**
   * Atomically accept a TOTP step: succeeds only when step > totpLastStep (compare-and-set), so
   * two parallel requests with one code yield exactly one success.
   */
  claimTotpStep: (username: string, step: number, now: number) => Promise<boolean>

  // sessions
  createSession: (s: Omit<SessionRecord, 'revokedAt'>) => Promise<void>
  getSession: (id: string) => Promise<SessionRecord | null>
  /** the session and its user (null when the user no longer exists) in one read; null for an unknown session */
  getSessionWithUser: (id: string) => Promise<{ session: SessionRecord, user: UserRecord | null } | null>
  touchSession: (id: string, now: number) => Promise<void>
  revokeSession: (id: string, now: number) => Promise<boolean>
  revokeUserSessions: (username: string, now: number) => Promise<number>
  listSessions: (username: string) => Promise<SessionRecord[]>

  // API keys
  createApiKey: (k: NewApiKey, now: number) => Promise<ApiKeyRecord>
  getApiKeyByHash: (keyHash: string) => Promise<ApiKeyRecord | null>
  getApiKey: (id: string) => Promise<ApiKeyRecord | null>
  listApiKeys: () => Promise<ApiKeyRecord[]>
  revokeApiKey: (id: string, now: number) => Promise<boolean>
  touchApiKey: (id: string, now: number) => Promise<void>
  /**
   * Marks a live key as replaced by `replacedBy`, valid until `graceUntil`; false when the key is
   * revoked or already replaced (a key is rotated once).
   */
  setApiKeyGrace: (id: string, graceUntil: number, replacedBy: string) => Promise<boolean>

  // usage records
  insertUsage: (records: readonly UsageRecord[]) => Promise<void>
  /** sums of the records at or after `since`, one row per group */
  usageSummary: (since: number, by: UsageGroupBy) => Promise<UsageGroup[]>
  /** the sums of one identity's records at or after `since` (`group` is null) */
  usageOf: (credential: UsageRecord['credential'], identity: string, since: number) => Promise<UsageGroup>
  /** deletes records older than `before`; returns how many */
  deleteUsageBefore: (before: number) => Promise<number>

  // retention
  /**
   * Deletes sessions that ended (expired or revoked) before `before`, and API keys revoked or
   * expired before it. Live sessions and keys are never touched. Returns how many of each went.
   */
  purgeEnded: (before: number) => Promise<{ sessions: number, apiKeys: number }>
  /**
   * Removes a person's account data in one transaction: the user row (password hash, TOTP secret),
   * every session of theirs and their login-failure counter. Null when no such user.
   */
  deleteUser: (username: string) => Promise<{ sessions: number } | null>
}

/** What createStore returns: the Store plus the shared-state primitives. */
export interface StoreBackend extends Store {
  readonly state: StatePrimitives
}
