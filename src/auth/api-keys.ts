// API keys for services: `ghk_` + base64url of 32 random bytes (256 bits). Only a SHA-256 hash is
// stored: with that much entropy a fast hash cannot be brute-forced, and lookups stay O(1).
import { createHash, randomBytes } from 'node:crypto'

const API_KEY_PREFIX = 'ghk_'
const KEY_BYTES = 32
const SHAPE = /^ghk_[A-Za-z0-9_-]{43,128}$/

export interface GeneratedApiKey { key: string, keyHash: string, prefix: string }

export function generateApiKey (): GeneratedApiKey {
  const key = API_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url')
  return { key, keyHash: hashApiKey(key), prefix: displayPrefix(key) }
}

export function hashApiKey (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** The first 8 characters after `ghk_`: enough for an operator to tell keys apart, useless to an attacker. */
export function displayPrefix (key: string): string {
  return key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + 8)
}

export function looksLikeApiKey (s: string): boolean {
  return s.startsWith(API_KEY_PREFIX)
}

export function isWellFormedApiKey (s: string): boolean {
  return SHAPE.test(s)
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }

/** A rotation's grace: a duration, or `0` (the old key stops at once); null for anything else. */
export function parseGrace (s: string): number | null {
  return /^0[smhdwy]?$/.test(s.trim()) ? 0 : parseDuration(s)
}

/** `90d`, `12h`, `30m`, `2w`, `1y` → milliseconds; null for anything else. */
export function parseDuration (s: string): number | null {
  const m = /^([1-9][0-9]{0,5})([smhdwy])$/.exec(s.trim())
  if (m === null) return null
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

export type ApiKeyStatus = 'active' | 'expired' | 'revoked'

/** A key's state at `now`, as the admin lists, the evidence bundle and the credential loader see it. */
export function apiKeyStatus (
  k: { revokedAt: number | null, expiresAt: number | null, graceUntil?: number | null }, now: number
): ApiKeyStatus {
  // a rotated key whose grace has ended is refused like a revoked one
  if (k.revokedAt !== null || (k.graceUntil != null && k.graceUntil <= now)) return 'revoked'
  return k.expiresAt !== null && k.expiresAt <= now ? 'expired' : 'active'
}
