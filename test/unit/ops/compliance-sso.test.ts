// The mfa-admin check knows single sign-on: the IdP's MFA counts only for the amr values of
// auth.oidc.mfaFromIdp, and an admin role reachable by SSO still needs MFA required for it.
import { describe, expect, it } from 'vitest'
import { runComplianceChecks } from '../../../src/ops/compliance.js'
import { healthyInput, productionConfig, type Raw } from './compliance-fixtures.js'

const SSO = (mfaFromIdp: string[]) => (r: Raw) => {
  ;(r.auth as Record<string, unknown>).oidc = {
    enabled: true, issuer: 'https://idp.example.com/realms/main', clientId: 'gatehouse',
    redirectUri: 'https://gatehouse.example.com/auth/oidc/callback', roleMapping: { 'ollama-admins': 'admin' }, mfaFromIdp
  }
}

const mfaAdmin = (mutate: (r: Raw) => void) =>
  runComplianceChecks(healthyInput(productionConfig(mutate))).find((c) => c.id === 'mfa-admin')

describe('mfa-admin with single sign-on', () => {
  it('with mfaFromIdp set, the IdP MFA is named as counting, and the evidence lists the SSO admin roles', () => {
    const c = mfaAdmin(SSO(['mfa', 'hwk']))
    expect(c?.verdict).toBe('pass')
    expect(c?.detail).toContain("the IdP's MFA when its amr has one of mfa, hwk")
    expect(c?.evidence).toMatchObject({ sso: { enabled: true, adminRolesFromIdp: ['admin'], mfaFromIdp: ['mfa', 'hwk'] } })
  })

  it('with mfaFromIdp empty, the IdP MFA does not count: local TOTP follows single sign-on', () => {
    const c = mfaAdmin(SSO([]))
    expect(c?.verdict).toBe('pass')
    expect(c?.detail).toContain('TOTP, also after single sign-on')
    expect(c?.evidence).toMatchObject({ sso: { mfaFromIdp: [] } })
  })

  it('an admin role without required MFA fails, whatever the IdP does', () => {
    const c = mfaAdmin((r) => { SSO(['mfa'])(r); (r.auth as { mfa: { requiredForRoles: string[] } }).mfa.requiredForRoles = ['user'] })
    expect(c?.verdict).toBe('fail')
  })
})
