import { describe, expect, it } from 'vitest'
import { apiKeyStatus, displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey, parseDuration } from '../../../src/auth/api-keys.js'

describe('API key material', () => {
  it('ghk_ + base64url of 32 random bytes; hash is SHA-256 hex; prefix is 8 chars', () => {
    const a = generateApiKey()
    expect(a.key).toMatch(/^ghk_[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(a.key.slice(4), 'base64url')).toHaveLength(32)
    expect(a.keyHash).toMatch(/^[0-9a-f]{64}$/)
    expect(a.keyHash).toBe(hashApiKey(a.key))
    expect(a.prefix).toBe(displayPrefix(a.key))
    expect(a.prefix).toHaveLength(8)
    expect(generateApiKey().key).not.toBe(a.key)
    expect(isWellFormedApiKey(a.key)).toBe(true)
  })

  it('expiry durations', () => {
    expect(parseDuration('90d')).toBe(90 * 86_400_000)
    expect(parseDuration('12h')).toBe(12 * 3_600_000)
    expect(parseDuration('1y')).toBe(31_536_000_000)
    for (const bad of ['0d', '-1d', '90', 'd', '1.5d', '90 days']) expect(parseDuration(bad), bad).toBeNull()
  })
})

describe('apiKeyStatus', () => {
  it('revoked wins over expired; a key is expired from its expiry instant on; no expiry never expires', () => {
    expect(apiKeyStatus({ revokedAt: 5, expiresAt: 1 }, 10)).toBe('revoked')
    expect(apiKeyStatus({ revokedAt: null, expiresAt: 10 }, 10)).toBe('expired')
    expect(apiKeyStatus({ revokedAt: null, expiresAt: 11 }, 10)).toBe('active')
    expect(apiKeyStatus({ revokedAt: null, expiresAt: null }, Number.MAX_SAFE_INTEGER)).toBe('active')
  })
})
