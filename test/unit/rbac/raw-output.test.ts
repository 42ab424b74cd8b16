// Who sees model text unmasked: only a role named in masking.exemptRoles or one granting
// `pii:unmasked` by name; the wildcard `*` (admin) does not include it.
import { describe, expect, it } from 'vitest'
import { createPolicy } from '../../../src/rbac/policy.js'
import { createRawOutputRule } from '../../../src/rbac/raw-output.js'

const policy = createPolicy({
  admin: { permissions: ['*'], models: ['*'] },
  user: { permissions: ['inference'], models: ['*'] },
  reviewer: { permissions: ['inference', 'pii:unmasked'], models: ['*'] },
  auditor: { permissions: ['inference'], models: ['*'] }
})

describe('createRawOutputRule', () => {
  const sees = createRawOutputRule(policy, ['auditor'])
  it('a role granting pii:unmasked sees raw output', () => { expect(sees(['reviewer'])).toBe(true) })
  it('an exempt role sees raw output', () => { expect(sees(['auditor'])).toBe(true) })
  it('`*` does not include pii:unmasked', () => { expect(sees(['admin'])).toBe(false) })
  it('anyone else, or no role at all, gets masked output', () => {
    expect(sees(['user'])).toBe(false)
    expect(sees([])).toBe(false)
    expect(sees(['unknown-role'])).toBe(false)
  })
  it('one qualifying role among several is enough', () => { expect(sees(['user', 'reviewer'])).toBe(true) })
})
