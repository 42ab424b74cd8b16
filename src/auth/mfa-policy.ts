// Which roles must use TOTP: auth.mfa.requiredForRoles, where "*" means every role.
export function mfaRequired (roles: readonly string[], requiredForRoles: readonly string[]): boolean {
  return requiredForRoles.includes('*') || roles.some((r) => requiredForRoles.includes(r))
}

/** A second factor was used: the local TOTP step (`otp`) or, by single sign-on, the IdP's own MFA (`mfa`). */
export function mfaSatisfied (amr: readonly string[]): boolean {
  return amr.includes('otp') || amr.includes('mfa')
}
