import { describe, expect, it } from 'vitest'
import { createSecretBox, generateTotpSecret, isWellFormedCode, matchTotpStep, otpauthUrl, totpStep } from '../../../src/auth/totp.js'
import { totpCodeAt } from '../../helpers/totp.js'

const T = Date.UTC(2026, 0, 1, 12, 0, 10)

describe('TOTP codes', () => {
  it('secrets are 160-bit Base32 and differ every time', () => {
    const a = generateTotpSecret()
    expect(a).toMatch(/^[A-Z2-7]{32}$/)
    expect(generateTotpSecret()).not.toBe(a)
  })

  it('RFC 6238 test vector (SHA-1, T=59 s) matches', async () => {
    // RFC 6238 appendix B secret "12345678901234567890"; 8-digit 94287082 → 6-digit 287082
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
    expect(await totpCodeAt(secret, 59_000)).toBe('287082')
  })

  it('matches the current step and one step either side, nothing further', async () => {
    const secret = generateTotpSecret()
    const step = totpStep(T)
    for (const d of [-1, 0, 1]) expect(await matchTotpStep(secret, await totpCodeAt(secret, T + d * 30_000), T)).toBe(step + d)
    for (const d of [-3, -2, 2, 3]) expect(await matchTotpStep(secret, await totpCodeAt(secret, T + d * 30_000), T)).toBeNull()
  })

  it('only exactly six ASCII digits are well formed', () => {
    expect(isWellFormedCode('012345')).toBe(true)
    for (const bad of ['12345', '1234567', '１２３４５６', '١٢٣٤٥٦', '12 345', '12345\n', 123456, null]) expect(isWellFormedCode(bad)).toBe(false)
  })

  it('the otpauth URL has the shape authenticator apps read', () => {
    expect(otpauthUrl('alice', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')).toBe('otpauth://totp/Gatehouse:alice?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=Gatehouse')
  })
})

describe('secret encryption at rest', () => {
  const box = createSecretBox(Buffer.alloc(32, 1))

  it('round-trips and never contains the clear secret; two encryptions differ', () => {
    const s = generateTotpSecret()
    const a = box.encrypt(s, 'alice')
    expect(a).not.toContain(s)
    expect(Buffer.from(a, 'base64').toString('latin1')).not.toContain(s)
    expect(box.encrypt(s, 'alice')).not.toBe(a)
    expect(box.decrypt(a, 'alice')).toBe(s)
  })

  it('a ciphertext moved to another user, altered, or read with another key fails', () => {
    const a = box.encrypt('SECRET', 'alice')
    expect(() => box.decrypt(a, 'mallory')).toThrow()
    const raw = Buffer.from(a, 'base64')
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1
    expect(() => box.decrypt(raw.toString('base64'), 'alice')).toThrow()
    expect(() => createSecretBox(Buffer.alloc(32, 2)).decrypt(a, 'alice')).toThrow()
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow()
  })
})
