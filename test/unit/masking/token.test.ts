import { createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { createTokenizer } from '../../../src/masking/token.js'
import { createMaskingEngine } from '../../../src/masking/index.js'

describe('mask tokens', () => {
  test('format is [MASKED_<TYPE>_<8 hex>] with the hex from HMAC-SHA256(key, entity \\0 canonical value)', () => {
    const key = Buffer.alloc(32, 9)
    const hex = createHmac('sha256', key).update('ssn\u0000123456789').digest('hex').slice(0, 8)
    expect(createTokenizer(key)('ssn', '123456789')).toBe(`[MASKED_SSN_${hex}]`)
  })
  test('same value, same token; differently written same value, same token; another key, another token', () => {
    const a = createMaskingEngine({ entities: ['ssn', 'credit_card'], custom: [], key: Buffer.alloc(32, 1) })
    const b = createMaskingEngine({ entities: ['ssn', 'credit_card'], custom: [], key: Buffer.alloc(32, 2) })
    expect(a.maskText('123-45-6789')).toBe(a.maskText('123 45 6789'))
    expect(a.maskText('4111-1111-1111-1111')).toBe(a.maskText('4111 1111 1111 1111'))
    expect(a.maskText('123-45-6789')).not.toBe(b.maskText('123-45-6789'))
    expect(a.maskText('123-45-6789')).not.toBe(a.maskText('234-56-7890'))
  })
  test('a short key is refused', () => {
    expect(() => createTokenizer(Buffer.alloc(8))).toThrow(RangeError)
  })
})
