import { describe, expect, it } from 'vitest'
import { assertPasswordAllowed, createPasswordHasher, generatePassword, passwordProblem } from '../../../src/auth/passwords.js'

const policy = { minLength: 12, maxLength: 128 }

describe('password policy', () => {
  it('length is 12..128 code points, with no composition rules', () => {
    expect(passwordProblem('a'.repeat(11) + 'q', policy)).toBeNull()
    expect(passwordProblem('abcdefghijk', policy)).toMatch(/at least 12/)
    expect(passwordProblem('x'.repeat(129), policy)).toMatch(/at most 128/)
    expect(passwordProblem('all lower case words', policy)).toBeNull()
    // twelve emoji are twelve characters, not 24 UTF-16 units
    expect(passwordProblem('🔑'.repeat(12), policy)).toBeNull()
    expect(passwordProblem('🔑'.repeat(11), policy)).not.toBeNull()
  })

  it('passwords among the 10,000 most common are refused, whatever their case', () => {
    expect(passwordProblem('unbelievable', policy)).toMatch(/common/)
    expect(passwordProblem('Scandinavian', policy)).toMatch(/common/)
    expect(passwordProblem('password', { minLength: 8, maxLength: 64 })).toMatch(/common/)
    expect(passwordProblem('unbelievable!', policy)).toBeNull()
  })

  it('long common passwords from the million-password list are refused too', () => {
    for (const pw of ['password1234', '123456789012', '1q2w3e4r5t6y', 'passwordpassword']) expect(passwordProblem(pw, policy), pw).toMatch(/common/)
  })

  it('a refusal is WEAK_PASSWORD and never echoes the password', () => {
    try {
      assertPasswordAllowed('unbelievable', policy)
      expect.unreachable()
    } catch (err) {
      expect((err as { code: string }).code).toBe('GH_ERR_WEAK_PASSWORD')
      expect((err as { statusCode: number }).statusCode).toBe(400)
      expect((err as Error).message).not.toContain('unbelievable')
    }
  })

  it('generated passwords pass the policy and differ', () => {
    const a = generatePassword()
    expect(passwordProblem(a, policy)).toBeNull()
    expect(generatePassword()).not.toBe(a)
  })
})

describe('password hashing', () => {
  it('argon2id with m=19 MiB, t=2, p=1; verified exactly as typed', async () => {
    const hasher = createPasswordHasher()
    const pw = 'Correct Horse  Battery ✓'
    const hash = await hasher.hash(pw)
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await hasher.verify(hash, pw)).toBe(true)
    for (const variant of [pw.trim() + ' ', pw.toLowerCase(), pw.normalize('NFD').replace('✓', '✔')]) {
      expect(await hasher.verify(hash, variant)).toBe(false)
    }
  })

  it('an unparsable hash verifies as false instead of throwing; the dummy never matches', async () => {
    const hasher = createPasswordHasher()
    expect(await hasher.verify('not-a-hash', 'whatever')).toBe(false)
    expect(await hasher.verifyDummy('whatever')).toBe(false)
  })
})
