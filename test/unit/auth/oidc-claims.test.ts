// Pure rules of single sign-on: names, groups → roles, IdP MFA, and the sealed state cookie.
import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { groupsFromClaims, idpDidMfa, rolesFromGroups, sealState, unsealState, usernameFromClaims } from '../../../src/auth/oidc/claims.js'
import { createSecretBox } from '../../../src/auth/totp.js'

describe('single sign-on claims', () => {
  it('the user name is canonical like local names, and unusable names are refused', () => {
    expect(usernameFromClaims({ preferred_username: ' ＡＬＩＣＥ ' }, 'preferred_username')).toBe('alice')
    expect(usernameFromClaims({ preferred_username: 'a b' }, 'preferred_username')).toBeNull()
    expect(usernameFromClaims({ preferred_username: 42 }, 'preferred_username')).toBeNull()
    expect(usernameFromClaims({}, 'preferred_username')).toBeNull()
  })

  it('roles come only from mapped groups, each once; unmapped groups give nothing', () => {
    const mapping = { admins: 'admin', users: 'user', 'more-users': 'user' }
    expect(rolesFromGroups(['users', 'more-users', 'admins', 'other'], mapping)).toEqual(['admin', 'user'])
    expect(rolesFromGroups(['other'], mapping)).toEqual([])
    expect(groupsFromClaims({ groups: 'users' }, 'groups')).toEqual(['users'])
    expect(groupsFromClaims({ groups: ['users', 7, null] }, 'groups')).toEqual(['users'])
    expect(groupsFromClaims({ groups: { users: true } }, 'groups')).toEqual([])
  })

  it('the IdP counts as MFA only for an amr value of mfaFromIdp', () => {
    expect(idpDidMfa({ amr: ['pwd', 'hwk'] }, ['mfa', 'hwk'])).toBe(true)
    expect(idpDidMfa({ amr: ['pwd'] }, ['mfa', 'hwk'])).toBe(false)
    expect(idpDidMfa({ amr: 'mfa' }, ['mfa'])).toBe(false)
    expect(idpDidMfa({ amr: ['mfa'] }, [])).toBe(false)
  })

  it('the state cookie round-trips, and any change or another key makes it unreadable', () => {
    const box = createSecretBox(randomBytes(32))
    const s = { state: 'st', nonce: 'no', verifier: 've', expiresAt: 123 }
    const sealed = sealState(box, s)
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(unsealState(box, sealed)).toEqual(s)
    expect(unsealState(box, sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA'))).toBeNull()
    expect(unsealState(createSecretBox(randomBytes(32)), sealed)).toBeNull()
    expect(unsealState(box, 'garbage')).toBeNull()
  })
})
