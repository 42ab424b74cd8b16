import { describe, expect, test } from 'vitest'
import { luhn } from '../../../src/masking/detectors/credit-card.js'
import { mod97 } from '../../../src/masking/detectors/iban.js'
import { isValidPhone } from '../../../src/masking/detectors/phone.js'
import { isValidSsn } from '../../../src/masking/detectors/ssn.js'
import { engine, tokenTypes } from './helpers.js'

const e = engine()
const typesIn = (text: string): string[] => tokenTypes(e.maskText(text))

describe('each entity masks what its rule accepts and leaves look-alikes alone', () => {
  const cases: Array<[string, string, string[]]> = [
    // [entity, text, expected token types]
    ['ssn', 'ssn 123-45-6789 here', ['SSN']],
    ['ssn', 'ssn 123 45 6789 here', ['SSN']],
    ['ssn area 000', 'ssn 000-45-6789', []],
    ['ssn area 666', 'ssn 666-45-6789', []],
    ['ssn area 9xx', 'ssn 912-45-6789', []],
    ['ssn group 00', 'ssn 123-00-6789', []],
    ['ssn serial 0000', 'ssn 123-45-0000', []],
    ['ssn mixed separators', 'ssn 123-45 6789', []],
    ['ssn inside a longer number', 'id 9123-45-6789 or 123-45-67890 or 123-45-6789-1', []],
    ['email', 'write to Bob.Smith+x@mail.example.co.uk.', ['EMAIL']],
    ['email without tld', 'user@localhost is local', []],
    ['email handle', 'ping @someone on chat', []],
    ['phone nanp', 'call (212) 555-0123 or 212.555.0199 or +1 212 555 0123', ['PHONE', 'PHONE', 'PHONE']],
    ['phone e164', 'london +44 20 7946 0958, berlin +49 30 1234567', ['PHONE', 'PHONE']],
    ['phone invalid area', 'call 555-123-4567 or 123-456-7890', []],
    ['phone too short', 'version +12 3', []],
    ['card visa spaced', 'card 4111 1111 1111 1111 ok', ['CREDIT_CARD']],
    ['card dashed', 'card 5500-0000-0000-0004.', ['CREDIT_CARD']],
    ['card amex', 'amex 378282246310005', ['CREDIT_CARD']],
    ['card bad luhn', 'card 4111 1111 1111 1112', []],
    ['card too short', 'n 4111 1111 1111', []],
    ['iban grouped', 'pay DE89 3704 0044 0532 0130 00 now', ['IBAN']],
    ['iban compact', 'pay GB82WEST12345698765432.', ['IBAN']],
    ['iban bad check', 'pay DE88370400440532013000 now', []],
    ['iban wrong length', 'pay DE89370400440532013000123', []],
    ['ipv4', 'host 10.0.0.1 and 192.168.100.254.', ['IPV4', 'IPV4']],
    ['ipv4 out of range', 'v 256.1.1.1 and 1.2.3.4.5 and 01.2.3.4', []],
    ['aws key', 'aws AKIAIOSFODNN7EXAMPLE', ['SECRET']],
    ['ghk key', 'use ghk_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5 now', ['SECRET']],
    ['jwt', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl', ['SECRET']],
    ['pem', 'key:\n-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\nAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\ndone', ['SECRET']],
    ['not secrets', 'AKIA is a prefix; ghk_short; eyJ alone; -----BEGIN PUBLIC KEY-----', []]
  ]
  test.each(cases)('%s', (_name, text, types) => {
    expect(typesIn(text)).toEqual(types)
  })

  test('a PEM block with no footer is masked through its body (a truncated key is still a key)', () => {
    const out = e.maskText('-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\nAAAA')
    expect(out).toMatch(/^\[MASKED_SECRET_[0-9a-f]{8}\]$/)
  })

  test('masked text keeps what is around a value', () => {
    expect(e.maskText('a 123-45-6789 b')).toMatch(/^a \[MASKED_SSN_[0-9a-f]{8}\] b$/)
  })

  test('only configured entities are masked', () => {
    const onlyEmail = engine(['email'])
    const out = onlyEmail.maskText('a@b.io 123-45-6789 10.0.0.1')
    expect(tokenTypes(out)).toEqual(['EMAIL'])
    expect(out).toContain('123-45-6789')
  })

  test('ipv4 is off unless listed', () => {
    expect(engine(['ssn']).maskText('10.0.0.1')).toBe('10.0.0.1')
  })

  test('counts are kept per entity', () => {
    const counts: Record<string, number> = {}
    e.maskText('123-45-6789 and 234-56-7890 and x@y.org', counts)
    expect(counts).toEqual({ ssn: 2, email: 1 })
  })
})

describe('checksums and validators', () => {
  test('luhn', () => {
    expect(luhn('4111111111111111')).toBe(true)
    expect(luhn('4111111111111112')).toBe(false)
  })
  test('mod97', () => {
    expect(mod97('GB82WEST12345698765432')).toBe(true)
    expect(mod97('GB83WEST12345698765432')).toBe(false)
  })
  test('ssn rules', () => {
    expect(isValidSsn('123-45-6789')).toBe(true)
    expect(isValidSsn('666-45-6789')).toBe(false)
  })
  test('phone numbers are checked against numbering plans', () => {
    expect(isValidPhone('(212) 555-0123')).toBe(true)
    expect(isValidPhone('(123) 555-0123')).toBe(false)
    expect(isValidPhone('+44 20 7946 0958')).toBe(true)
  })
})

describe('custom entities', () => {
  test('a custom pattern masks as its upper-cased name', () => {
    const c = engine(['ssn'], [{ name: 'employee_id', pattern: 'EMP-\\d{6}', flags: '', maxLength: 16 }])
    expect(tokenTypes(c.maskText('id EMP-123456 and EMP-12'))).toEqual(['EMPLOYEE_ID'])
  })
  test('flags apply (case-insensitive)', () => {
    const c = engine([], [{ name: 'codename', pattern: 'project [a-z]+', flags: 'i', maxLength: 32 }])
    expect(tokenTypes(c.maskText('it is PROJECT Falcon.'))).toEqual(['CODENAME'])
  })
  test('a custom match never extends past maxLength', () => {
    const c = engine([], [{ name: 'ticket', pattern: 'T-\\d+', flags: '', maxLength: 6 }])
    expect(c.maskText('T-123456789')).toMatch(/^\[MASKED_TICKET_[0-9a-f]{8}\]56789$/)
  })
  test('an unknown entity name is refused', () => {
    expect(() => engine(['ssn', 'passport'])).toThrow(expect.objectContaining({ code: 'GH_ERR_MASKING_UNKNOWN_ENTITY' }))
  })
})
