// The one implementation of account administration, shared by the CLI and the admin HTTP API:
// users (add, list, disable, enable, set-role, reset-mfa, unlock, set-password) and API keys
// (create, list, revoke). It checks roles against config.rbac.roles, ends sessions whenever an
// account's standing changes, and emits one audit event per change. Sessions (list, revoke one)
// are here too, so the admin API has one place to go.
import { errors } from '../errors.js'
import type { ApiKeyRecord, SessionRecord, UserRecord } from '../store/types.js'
import type { Actor, AuthDeps } from './deps.js'
import { canonicalUsername, usernameProblem } from './usernames.js'
import { assertPasswordAllowed, generatePassword } from './passwords.js'
import { apiKeyStatus, generateApiKey, parseDuration, parseGrace, type ApiKeyStatus } from './api-keys.js'
import { lockRemainingMs } from './lockout.js'
import { endSession } from './sessions.js'

export interface UserSummary {
  username: string
  roles: string[]
  status: UserRecord['status']
  /** `oidc`: created by single sign-on, roles follow the IdP's groups at every sign-in */
  source: UserRecord['source']
  mfaEnrolled: boolean
  /** the password is one-time: its owner must choose a new one at the next sign-in */
  passwordMustChange: boolean
  lastLoginAt: number | null
  failedCount: number
  lockedUntil: number | null
  createdAt: number
}

export type SessionSummary = Pick<SessionRecord, 'id' | 'createdAt' | 'expiresAt' | 'lastSeenAt' | 'revokedAt' | 'sourceIp'>

export interface ApiKeySummary {
  id: string
  name: string
  role: string
  prefix: string
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
  revokedAt: number | null
  /** a rotated key works until then */
  graceUntil: number | null
  /** the key that replaced this one */
  replacedBy: string | null
  status: ApiKeyStatus
}

export interface UserAdmin {
  /**
   * without a password, one is generated and returned once (never stored in clear, never audited);
   * a generated or `temporary` password must be changed by its owner at the next sign-in
   */
  addUser: (name: string, role: string, password?: string, actor?: Actor, options?: { temporary?: boolean }) =>
    Promise<{ user: UserSummary, generatedPassword: string | null }>
  listUsers: () => Promise<UserSummary[]>
  getUser: (name: string) => Promise<UserSummary>
  disableUser: (name: string, actor?: Actor) => Promise<UserSummary>
  enableUser: (name: string, actor?: Actor) => Promise<UserSummary>
  setRole: (name: string, role: string, actor?: Actor) => Promise<UserSummary>
  resetMfa: (name: string, actor?: Actor) => Promise<UserSummary>
  unlock: (name: string, actor?: Actor) => Promise<UserSummary>
  setPassword: (name: string, password: string, actor?: Actor, options?: { temporary?: boolean }) => Promise<UserSummary>
  /**
   * Removes the person's account data: the user (password hash, TOTP secret), every session and the
   * failure counter. Audit events naming them stay. Audited as `user-deleted`.
   */
  deleteUser: (name: string, actor?: Actor) => Promise<{ username: string, sessions: number }>
  /** every session of the user, live or not, oldest first */
  listSessions: (name: string) => Promise<SessionSummary[]>
  /** ends one session at once (audited as `logout`, reason `revoked-by-admin`); false when there is no such session */
  revokeSession: (id: string, actor?: Actor) => Promise<boolean>
  /** the key is returned once; only its hash is stored. `expiresIn` is a duration such as 90d, 12h or 30m (null: never) */
  createKey: (input: { name: string, role: string, expiresIn: string | null }, actor?: Actor) =>
    Promise<{ key: string, record: ApiKeySummary }>
  listKeys: () => Promise<ApiKeySummary[]>
  revokeKey: (id: string, actor?: Actor) => Promise<ApiKeySummary>
  /**
   * A new key with the same name, role and expiry policy (returned once); the old one keeps working
   * for `grace` (a duration, default 24h; `0` ends it at once), then is refused like a revoked key.
   */
  rotateKey: (id: string, grace: string | null, actor?: Actor) =>
    Promise<{ key: string, record: ApiKeySummary, previous: ApiKeySummary }>
}

type Deps = Pick<AuthDeps, 'store' | 'passwords' | 'clock' | 'audit' | 'config'>

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const DEFAULT_GRACE = '24h'

export function createUserAdmin (deps: Deps): UserAdmin {
  const { store, clock, audit } = deps
  const policy = deps.config.auth.password

  const assertRole = (role: string) => {
    if (!Object.hasOwn(deps.config.rbac.roles, role)) {
      throw new errors.BAD_REQUEST(`unknown role "${role}" (configured: ${Object.keys(deps.config.rbac.roles).join(', ')})`)
    }
  }

  const summary = (u: UserRecord): UserSummary => ({
    username: u.username, roles: [...u.roles], status: u.status, source: u.source, mfaEnrolled: u.totpEnrolled,
    passwordMustChange: u.passwordMustChange, lastLoginAt: u.lastLoginAt,
    failedCount: u.failedCount, lockedUntil: lockRemainingMs(u, clock.now()) > 0 ? u.lockedUntil : null, createdAt: u.createdAt
  })
  /** the record as it is right after resetFailures */
  const cleared = (u: UserRecord): UserRecord => ({ ...u, failedCount: 0, lockedUntil: null })

  async function load (name: string): Promise<UserRecord> {
    const u = await store.getUser(canonicalUsername(name))
    if (u === null) throw new errors.NOT_FOUND('user')
    return u
  }

  /** with endAll every session of the user dies: the epoch bump kills its tokens, revokedAt marks the rows */
  async function change (name: string, patch: Parameters<typeof store.updateUser>[1], endAll: boolean): Promise<UserRecord> {
    const u = await load(name)
    const now = clock.now()
    const updated = await store.updateUser(u.username, { ...patch, ...(endAll ? { bumpEpoch: true } : {}) }, now)
    if (updated === null) throw new errors.NOT_FOUND('user')
    if (endAll) await store.revokeUserSessions(u.username, now)
    return updated
  }

  /** `90d` → the instant it ends; BAD_REQUEST for anything that is not a duration ending within Date's range */
  function expiryAt (expiresIn: string | null, now: number): number | null {
    if (expiresIn == null) return null
    const ms = parseDuration(expiresIn)
    if (ms === null || Number.isNaN(new Date(now + ms).getTime())) {
      throw new errors.BAD_REQUEST(`expiry "${expiresIn}" is not a duration such as 90d, 12h or 30m`)
    }
    return now + ms
  }

  const keySummary = (k: ApiKeyRecord): ApiKeySummary => ({
    id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdAt: k.createdAt, expiresAt: k.expiresAt, lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt, graceUntil: k.graceUntil, replacedBy: k.replacedBy,
    status: apiKeyStatus(k, clock.now())
  })

  return {
    async addUser (name, role, password, actor = {}, options = {}) {
      const username = canonicalUsername(name)
      const problem = usernameProblem(username)
      if (problem !== null) throw new errors.BAD_REQUEST(problem)
      assertRole(role)
      const generated = password === undefined ? generatePassword() : null
      const clear = password ?? (generated as string)
      if (generated === null) assertPasswordAllowed(clear, policy)
      if (await store.getUser(username) !== null) throw new errors.CONFLICT(`user "${username}" already exists`)
      const u = await store.createUser({
        username, roles: [role], passwordHash: await deps.passwords.hash(clear),
        passwordMustChange: generated !== null || options.temporary === true
      }, clock.now())
      // a fresh account starts with a clean counter even if its name was tried before it existed
      await store.resetFailures(username)
      audit({ action: 'user-created', outcome: 'success', ...actor, target: { userName: username, role } })
      return { user: summary(cleared(u)), generatedPassword: generated }
    },

    async listUsers () {
      return (await store.listUsers()).map(summary)
    },

    async getUser (name) {
      return summary(await load(name))
    },

    async disableUser (name, actor = {}) {
      const u = await change(name, { status: 'disabled' }, true)
      audit({ action: 'user-disabled', outcome: 'success', ...actor, target: { userName: u.username } })
      return summary(u)
    },

    async deleteUser (name, actor = {}) {
      const u = await load(name)
      const r = await store.deleteUser(u.username)
      if (r === null) throw new errors.NOT_FOUND('user')
      audit({ action: 'user-deleted', outcome: 'success', ...actor, target: { userName: u.username } })
      return { username: u.username, sessions: r.sessions }
    },

    async enableUser (name, actor = {}) {
      const u = await change(name, { status: 'active' }, false)
      audit({ action: 'user-enabled', outcome: 'success', ...actor, target: { userName: u.username } })
      return summary(u)
    },

    async setRole (name, role, actor = {}) {
      assertRole(role)
      const u = await change(name, { roles: [role] }, true)
      audit({ action: 'role-changed', outcome: 'success', ...actor, target: { userName: u.username, role } })
      return summary(u)
    },

    async resetMfa (name, actor = {}) {
      const u = await change(name, { totpSecretEnc: null, totpEnrolled: false, totpLastStep: null }, true)
      audit({ action: 'mfa-reset', outcome: 'success', ...actor, target: { userName: u.username } })
      return summary(u)
    },

    async unlock (name, actor = {}) {
      const u = await load(name)
      await store.resetFailures(u.username)
      audit({ action: 'account-unlocked', outcome: 'success', ...actor, target: { userName: u.username } })
      return summary(cleared(u))
    },

    async setPassword (name, password, actor = {}, options = {}) {
      assertPasswordAllowed(password, policy)
      const current = await load(name)
      // a single sign-on account has no local password, and must not be given one (a one-time one included)
      if (current.source === 'oidc') throw new errors.CONFLICT(`${current.username} signs in with single sign-on and has no local password`)
      const hash = await deps.passwords.hash(password)
      const u = await change(name, { passwordHash: hash, passwordMustChange: options.temporary === true }, true)
      audit({ action: 'password-changed', outcome: 'success', ...actor, target: { userName: u.username } })
      return summary(u)
    },

    async listSessions (name) {
      const u = await load(name)
      return (await store.listSessions(u.username)).map((s) =>
        ({ id: s.id, createdAt: s.createdAt, expiresAt: s.expiresAt, lastSeenAt: s.lastSeenAt, revokedAt: s.revokedAt,
          sourceIp: s.sourceIp }))
    },

    async revokeSession (id, actor = {}) {
      return endSession(deps, id, actor, 'admin')
    },

    async createKey ({ name, role, expiresIn }, actor = {}) {
      if (!KEY_NAME.test(name)) throw new errors.BAD_REQUEST('key name may contain only A-Z, a-z, 0-9 and . _ - (at most 64)')
      assertRole(role)
      const now = clock.now()
      const expiresAt = expiryAt(expiresIn, now)
      const { key, keyHash, prefix } = generateApiKey()
      const rec = await store.createApiKey({ name, role, keyHash, prefix, expiresAt }, now)
      audit({ action: 'key-created', outcome: 'success', ...actor, target: { keyId: rec.id, keyName: rec.name, role } })
      return { key, record: keySummary(rec) }
    },

    async listKeys () {
      return (await store.listApiKeys()).map(keySummary)
    },

    async revokeKey (id, actor = {}) {
      const rec = await store.getApiKey(id)
      if (rec === null) throw new errors.NOT_FOUND('key')
      await store.revokeApiKey(id, clock.now())
      audit({ action: 'key-revoked', outcome: 'success', ...actor, target: { keyId: rec.id, keyName: rec.name, role: rec.role } })
      const after = await store.getApiKey(id)
      return keySummary(after ?? rec)
    },

    async rotateKey (id, grace, actor = {}) {
      const graceMs = parseGrace(grace ?? DEFAULT_GRACE)
      if (graceMs === null) throw new errors.BAD_REQUEST(`grace "${grace}" is not a duration such as 24h, 30m or 0`)
      const rec = await store.getApiKey(id)
      if (rec === null) throw new errors.NOT_FOUND('key')
      const now = clock.now()
      if (apiKeyStatus(rec, now) !== 'active' || rec.replacedBy !== null) {
        throw new errors.CONFLICT('only an active key that was not rotated before can be rotated')
      }
      // the same expiry policy: a key that lived N days gets N days from now
      const expiresAt = rec.expiresAt === null ? null : now + (rec.expiresAt - rec.createdAt)
      const { key, keyHash, prefix } = generateApiKey()
      const next = await store.createApiKey({ name: rec.name, role: rec.role, keyHash, prefix, expiresAt }, now)
      const graceUntil = Math.min(now + graceMs, rec.expiresAt ?? Number.MAX_SAFE_INTEGER)
      if (!await store.setApiKeyGrace(rec.id, graceUntil, next.id)) {
        // another rotation or a revocation won the race: the new key must not outlive it
        await store.revokeApiKey(next.id, now)
        throw new errors.CONFLICT('only an active key that was not rotated before can be rotated')
      }
      audit({ action: 'key-rotated', outcome: 'success', ...actor, target: { keyId: rec.id, keyName: rec.name, role: rec.role } })
      const previous = await store.getApiKey(rec.id) ?? rec
      return { key, record: keySummary(next), previous: keySummary(previous) }
    }
  }
}
