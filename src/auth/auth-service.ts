// The login flow as plain business logic: password step, TOTP step (or enrollment),
// sessions, logout and "who am I". No Fastify here; routes.ts adapts it to HTTP.
import { errors } from '../errors.js'
import { throttleSubject } from '../config/cidr.js'
import type { Identity } from './identity.js'
import type { UserRecord } from '../store/types.js'
import type { Actor, AuthDeps } from './deps.js'
import { canonicalUsername, MAX_USERNAME_LENGTH } from './usernames.js'
import { ipThrottled, lockRemainingMs } from './lockout.js'
import { retryAfterSeconds } from '../clock.js'
import { generateTotpSecret, isWellFormedCode, matchTotpStep, otpauthUrl } from './totp.js'
import { mfaRequired } from './mfa-policy.js'
import { endSession } from './sessions.js'
import type { LoginBody, MfaBody, PasswordBody } from './schemas.js'
import { assertPasswordAllowed } from './passwords.js'

export type SessionResult = {
  status: 'ok', access_token: string, token_type: 'Bearer', expires_in: number
  /** the password is one-time: this session may only change it (POST /auth/password) */
  password_change_required?: true
}
export type LoginResult =
  | SessionResult
  | { status: 'mfa_required', mfa_token: string }
  | { status: 'mfa_enrollment_required', mfa_token: string, otpauth_url: string }

export interface MeResult { username: string, roles: string[], amr: string[], expires_at: string | null, password_change_required: boolean }

export interface RequestInfo { sourceIp: string, requestId: string }

/** Thrown with LOGIN_THROTTLED so the route can send Retry-After. */
export type ThrottledError = InstanceType<typeof errors.LOGIN_THROTTLED> & { retryAfterSeconds: number }

export interface AuthService {
  /** `body` has passed its route schema */
  login: (body: LoginBody, req: RequestInfo) => Promise<LoginResult>
  verifyMfa: (body: MfaBody, req: RequestInfo) => Promise<SessionResult>
  logout: (identity: Identity, req: RequestInfo) => Promise<void>
  me: (identity: Identity) => MeResult
  /**
   * A session's owner chooses a new password (current password, and a TOTP code when enrolled). Every
   * session of the user ends; the result is the next step as a login would give it: a fresh session,
   * or the MFA enrollment a one-time password's holder has not done yet.
   */
  changePassword: (identity: Identity, body: PasswordBody, req: RequestInfo) => Promise<LoginResult>
  /** the steps a single sign-on reuses, so it follows the password login's throttles, lockout and MFA */
  external: ExternalSignIn
  /** the caller's own live sessions, oldest first, the current one marked */
  ownSessions: (identity: Identity) => Promise<OwnSession[]>
  /** "sign out everywhere": every session of the caller ends, this one too */
  logoutEverywhere: (identity: Identity, req: RequestInfo) => Promise<void>
}

/** What single sign-on borrows from the password login. */
export interface ExternalSignIn {
  /** 429 (LOGIN_THROTTLED with retryAfterSeconds) once this address has failed too often */
  checkIpThrottle: (req: RequestInfo) => Promise<void>
  /** remaining lock of an account in ms (0: not locked) */
  lockRemaining: (username: string) => Promise<number>
  /** one failed sign-in: counts against the address and (unless countAccount is false) the named account; audits its reason */
  fail: (req: RequestInfo, reason: string, username?: string, countAccount?: boolean) => Promise<void>
  /**
   * A user the IdP vouched for: the TOTP step (or enrollment) unless `mfaDone`, else a session whose
   * `amr` is `amr`. Audits the `login` success with its provider.
   */
  complete: (user: UserRecord, amr: string[], mfaDone: boolean, req: RequestInfo) => Promise<LoginResult>
}

export interface OwnSession { id: string, createdAt: number, expiresAt: number, lastSeenAt: number, sourceIp: string, current: boolean }

// Longer input cannot be an account or a password anyone set; it is refused like any other miss.
const MAX_PASSWORD_UTF16 = 4096

const ipFailKey = (ip: string) => `auth:ip-failures:${throttleSubject(ip)}`
const ipBlockKey = (ip: string) => `auth:ip-blocked:${throttleSubject(ip)}`

export function createAuthService (deps: AuthDeps): AuthService {
  const { store, sharedState, tokens, passwords, secretBox, clock, audit } = deps
  const { lockout, sessionTtlSeconds } = deps.config.auth
  const lockMs = lockout.lockoutSeconds * 1000
  const ipWindowMs = lockout.perIpWindowSeconds * 1000
  const actor = (req: RequestInfo, userName?: string): Actor & { sourceIp: string } =>
    ({ sourceIp: req.sourceIp, requestId: req.requestId, ...(userName === undefined ? {} : { userName }) })

  /** 429 before anything else once this address has had too many failures in its window. */
  async function checkIpThrottle (req: RequestInfo, action: 'login' | 'mfa-verify'): Promise<void> {
    const now = clock.now()
    if (!(await sharedState.isRevoked(ipBlockKey(req.sourceIp), now))) return
    // blocked: the window is still open, so hitting it again returns its reset time without moving it
    const { resetAt } = await sharedState.hit(ipFailKey(req.sourceIp), ipWindowMs, now)
    audit({ action, outcome: 'failure', ...actor(req), reason: 'ip_throttled' })
    throw Object.assign(new errors.LOGIN_THROTTLED(), { retryAfterSeconds: retryAfterSeconds(resetAt, now) }) as ThrottledError
  }

  async function countIpFailure (req: RequestInfo): Promise<void> {
    const now = clock.now()
    const { count, resetAt } = await sharedState.hit(ipFailKey(req.sourceIp), ipWindowMs, now)
    if (ipThrottled(count, lockout)) await sharedState.revoke(ipBlockKey(req.sourceIp), resetAt)
  }

  /** One failure against an account (known or not): one atomic store call, which also starts afresh after a lock ran out. */
  const recordAccountFailure = async (username: string): Promise<{ failedCount: number, justLocked: boolean }> =>
    store.recordFailure(username, lockout.maxFailedAttempts, lockMs, clock.now())

  const auditLocked = (username: string, req: RequestInfo) =>
    audit({ action: 'account-locked', outcome: 'success', ...actor(req, username), reason: 'max_failed_attempts' })

  async function countAccountFailure (username: string, req: RequestInfo): Promise<void> {
    if ((await recordAccountFailure(username)).justLocked) auditLocked(username, req)
  }

  async function startSession (user: UserRecord, amr: string[], req: RequestInfo): Promise<SessionResult> {
    const now = clock.now()
    const exp = Math.floor(now / 1000) + sessionTtlSeconds
    const { token, claims } = await tokens.issueAccess({ sub: user.username, roles: user.roles, amr, sep: user.sessionEpoch, exp })
    await store.createSession({ id: claims.jti, username: user.username, createdAt: now, expiresAt: exp * 1000, lastSeenAt: now,
      sourceIp: req.sourceIp })
    await store.updateUser(user.username, { lastLoginAt: now }, now)
    // only a completed login resets the counter: a right password alone must not refill TOTP guesses
    await store.resetFailures(user.username)
    return { status: 'ok', access_token: token, token_type: 'Bearer', expires_in: exp - Math.floor(now / 1000),
      ...(user.passwordMustChange ? { password_change_required: true as const } : {}) }
  }

  async function startEnrollment (user: UserRecord): Promise<LoginResult> {
    const secret = generateTotpSecret()
    const tse = secretBox.encrypt(secret, user.username)
    const { token } = await tokens.issueMfa({ sub: user.username, pur: 'enroll', sep: user.sessionEpoch, tse })
    return { status: 'mfa_enrollment_required', mfa_token: token, otpauth_url: otpauthUrl(user.username, secret) }
  }

  /** true when `code` is a fresh valid TOTP code of the user (claimed, so it is never accepted again) */
  async function codeAccepted (user: UserRecord, code: string | undefined, req: RequestInfo): Promise<boolean> {
    if (code === undefined || !isWellFormedCode(code) || user.totpSecretEnc === null) return false
    let secret: string
    try { secret = secretBox.decrypt(user.totpSecretEnc, user.username) } catch { return false }
    const now = clock.now()
    const step = await matchTotpStep(secret, code, now)
    if (step === null) return false
    if ((user.totpLastStep !== null && step <= user.totpLastStep) || !(await store.claimTotpStep(user.username, step, now))) {
      audit({ action: 'totp-replay', outcome: 'failure', ...actor(req, user.username), reason: 'step_already_used' })
      return false
    }
    return true
  }

  /** after the first factor: the TOTP step, an enrollment, or straight to a session */
  async function secondStep (user: UserRecord, amr: string[], mfaDone: boolean, req: RequestInfo,
    extra: { provider?: 'oidc' } = {}): Promise<LoginResult> {
    if (user.passwordMustChange && !user.totpEnrolled) {
      // a one-time password opens a session that can only choose a new password; MFA enrollment follows it
      const result = await startSession(user, amr, req)
      audit({ action: 'login', outcome: 'success', ...actor(req, user.username), ...extra, reason: 'password_change_required' })
      return result
    }
    if (!mfaDone && user.totpEnrolled) {
      const { token } = await tokens.issueMfa({ sub: user.username, pur: 'verify', sep: user.sessionEpoch })
      audit({ action: 'login', outcome: 'success', ...actor(req, user.username), ...extra, reason: 'mfa_required' })
      return { status: 'mfa_required', mfa_token: token }
    }
    if (!mfaDone && mfaRequired(user.roles, deps.config.auth.mfa.requiredForRoles)) {
      const enrollment = await startEnrollment(user)
      audit({ action: 'login', outcome: 'success', ...actor(req, user.username), ...extra, reason: 'mfa_enrollment_required' })
      return enrollment
    }
    const result = await startSession(user, amr, req)
    audit({ action: 'login', outcome: 'success', ...actor(req, user.username), ...extra })
    return result
  }

  const external: ExternalSignIn = {
    checkIpThrottle: (req) => checkIpThrottle(req, 'login'),
    lockRemaining: async (username) => lockRemainingMs(await store.failureState(username), clock.now()),
    async fail (req, reason, username, countAccount = true) {
      audit({ action: 'login', outcome: 'failure', ...actor(req, username), provider: 'oidc', reason })
      if (username !== undefined && countAccount) await countAccountFailure(username, req)
      await countIpFailure(req)
    },
    complete: (user, amr, mfaDone, req) => secondStep(user, amr, mfaDone, req, { provider: 'oidc' })
  }

  return {
    external,
    async login (body, req) {
      const { username: rawName, password } = body
      await checkIpThrottle(req, 'login')

      const username = rawName.length <= 4 * MAX_USERNAME_LENGTH ? canonicalUsername(rawName) : ''
      const plausible = username.length > 0 && username.length <= MAX_USERNAME_LENGTH && password.length <= MAX_PASSWORD_UTF16
      const found = plausible ? await store.getUser(username) : null
      // an SSO account has no local password: it is refused exactly like an unknown name
      const user = found?.source === 'oidc' ? null : found
      // the hash is always computed, so every failure below costs the same time
      const passwordOk = user !== null && plausible
        ? await passwords.verify(user.passwordHash, password)
        : await passwords.verifyDummy(password)
      // counters are read after the (slow) hash, so a parallel burst sees the lock its own failures set
      await checkIpThrottle(req, 'login')
      const state = plausible ? await store.failureState(username) : { failedCount: 0, lockedUntil: null }
      const now = clock.now()

      const fail = async (reason: string, count: boolean): Promise<never> => {
        audit({ action: 'login', outcome: 'failure', ...actor(req, plausible ? username : undefined), reason })
        if (count && plausible) await countAccountFailure(username, req)
        await countIpFailure(req)
        throw new errors.INVALID_LOGIN()
      }
      // an active lock is not counted again (it would never end under a steady trickle)
      if (lockRemainingMs(state, now) > 0) return fail('locked', false)
      if (user === null) return fail(plausible ? 'unknown_user' : 'implausible_input', true)
      if (!passwordOk) return fail('bad_password', true)
      if (user.status !== 'active') return fail('disabled', true)

      return secondStep(user, ['pwd'], false, req)
    },

    async verifyMfa (body, req) {
      const { mfa_token: mfaToken, code } = body
      await checkIpThrottle(req, 'mfa-verify')

      const v = await tokens.verifyMfa(mfaToken)
      if (!v.ok) {
        audit({ action: 'mfa-verify', outcome: 'failure', ...actor(req), reason: `mfa_token_${v.reason}`.slice(0, 64) })
        await countIpFailure(req)
        throw new errors.INVALID_TOKEN()
      }
      const c = v.claims
      const user = await store.getUser(c.sub)
      const action = c.pur === 'enroll' ? 'mfa-enroll' : 'mfa-verify'
      let attempt: { justLocked: boolean } | null = null
      const reject = async (reason: string, err: Error = new errors.INVALID_CODE()): Promise<never> => {
        audit({ action, outcome: 'failure', ...actor(req, c.sub), reason })
        if (attempt?.justLocked === true) auditLocked(c.sub, req)
        await countIpFailure(req)
        throw err
      }
      // an MFA token dies with the state it was issued for: disable, MFA reset, password change, enrollment
      if (user === null || user.status !== 'active' || user.sessionEpoch !== c.sep) return reject('mfa_token_stale',
        new errors.INVALID_TOKEN())
      if (c.pur === 'enroll' ? user.totpEnrolled : !user.totpEnrolled) return reject('mfa_token_stale', new errors.INVALID_TOKEN())
      const now = clock.now()
      if (lockRemainingMs(await store.failureState(user.username), now) > 0) return reject('locked')
      // The attempt is counted before the code is looked at, atomically: however many codes arrive in
      // parallel, at most maxFailedAttempts of them are ever evaluated. Success resets the count.
      const counted = await recordAccountFailure(user.username)
      attempt = counted
      if (counted.failedCount > lockout.maxFailedAttempts) return reject('locked')
      if (!isWellFormedCode(code)) return reject('malformed_code')

      let sealed: string
      let secret: string
      try {
        sealed = c.pur === 'enroll' ? (c.tse as string) : (user.totpSecretEnc as string)
        secret = secretBox.decrypt(sealed, user.username)
      } catch {
        return reject('secret_undecryptable')
      }
      const step = await matchTotpStep(secret, code, now)
      if (step === null) return reject('wrong_code')
      // a step at or before the last accepted one is a replay; claimTotpStep is the atomic judge
      if ((user.totpLastStep !== null && step <= user.totpLastStep) || !(await store.claimTotpStep(user.username, step, now))) {
        audit({ action: 'totp-replay', outcome: 'failure', ...actor(req, user.username), reason: 'step_already_used' })
        return reject('replay')
      }
      if (c.pur === 'enroll') {
        await store.updateUser(user.username, { totpSecretEnc: sealed, totpEnrolled: true }, now)
        audit({ action: 'mfa-enroll', outcome: 'success', ...actor(req, user.username) })
      }
      // `fed`: the first factor was a federated sign-in (RFC 8176), not a local password
      const result = await startSession(user, [user.source === 'oidc' ? 'fed' : 'pwd', 'otp'], req)
      audit({ action: 'mfa-verify', outcome: 'success', ...actor(req, user.username) })
      return result
    },

    async logout (identity, req) {
      if (identity.credential !== 'session') throw new errors.BAD_REQUEST('logout applies to sessions, not API keys')
      await endSession(deps, identity.credentialId, actor(req, identity.name), 'owner')
    },

    me (identity) {
      return {
        username: identity.name,
        roles: [...identity.roles],
        amr: [...identity.amr],
        expires_at: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString(),
        password_change_required: identity.passwordChangeRequired === true
      }
    },

    async ownSessions (identity) {
      if (identity.credential !== 'session') throw new errors.BAD_REQUEST('sessions belong to people, not API keys')
      const now = clock.now()
      return (await store.listSessions(identity.name))
        .filter((x) => x.revokedAt === null && x.expiresAt > now)
        .map((x) => ({ id: x.id, createdAt: x.createdAt, expiresAt: x.expiresAt, lastSeenAt: x.lastSeenAt, sourceIp: x.sourceIp,
          current: x.id === identity.credentialId }))
    },

    async logoutEverywhere (identity, req) {
      if (identity.credential !== 'session') throw new errors.BAD_REQUEST('logout applies to sessions, not API keys')
      const now = clock.now()
      // the epoch bump kills every token of the user at once; revokedAt marks the rows
      await store.updateUser(identity.name, { bumpEpoch: true }, now)
      await store.revokeUserSessions(identity.name, now)
      audit({ action: 'logout', outcome: 'success', ...actor(req, identity.name), reason: 'all-sessions' })
    },

    async changePassword (identity, body, req) {
      if (identity.credential !== 'session') throw new errors.BAD_REQUEST('a password is changed from a session, not an API key')
      await checkIpThrottle(req, 'login')
      const user = await store.getUser(identity.name)
      if (user === null) throw new errors.INVALID_TOKEN()
      if (user.source === 'oidc') throw new errors.CONFLICT('this account signs in with single sign-on and has no local password')
      const fail = async (reason: string, count: boolean): Promise<never> => {
        audit({ action: 'password-changed', outcome: 'failure', ...actor(req, user.username), target: { userName: user.username }, reason })
        if (count) await countAccountFailure(user.username, req)
        await countIpFailure(req)
        throw new errors.REAUTH_FAILED()
      }
      const passwordOk = body.current_password.length <= MAX_PASSWORD_UTF16 &&
        await passwords.verify(user.passwordHash, body.current_password)
      if (lockRemainingMs(await store.failureState(user.username), clock.now()) > 0) return fail('locked', false)
      if (!passwordOk) return fail('bad_password', true)
      if (user.totpEnrolled) {
        // as at POST /auth/mfa: the attempt is counted before the code is looked at, atomically, so
        // parallel guesses evaluate at most maxFailedAttempts codes; the change resets the count
        const counted = await recordAccountFailure(user.username)
        if (counted.justLocked) auditLocked(user.username, req)
        if (counted.failedCount > lockout.maxFailedAttempts) return fail('locked', false)
        if (!(await codeAccepted(user, body.code, req))) return fail(body.code === undefined ? 'code_missing' : 'bad_code', false)
      }
      assertPasswordAllowed(body.new_password, deps.config.auth.password)
      if (body.new_password === body.current_password) throw new errors.WEAK_PASSWORD('the new password must differ from the current one')

      const now = clock.now()
      const updated = await store.updateUser(user.username,
        { passwordHash: await passwords.hash(body.new_password), passwordMustChange: false, bumpEpoch: true }, now)
      if (updated === null) throw new errors.INVALID_TOKEN()
      // the epoch bump kills every token (this one too, and pending MFA tokens); revokedAt marks the rows
      await store.revokeUserSessions(user.username, now)
      await store.resetFailures(user.username)
      audit({ action: 'password-changed', outcome: 'success', ...actor(req, user.username), target: { userName: user.username } })
      if (updated.totpEnrolled) return startSession(updated, ['pwd', 'otp'], req)
      if (mfaRequired(updated.roles, deps.config.auth.mfa.requiredForRoles)) return startEnrollment(updated)
      return startSession(updated, ['pwd'], req)
    }
  }
}
