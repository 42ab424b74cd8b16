// Which roles must use TOTP: auth.mfa.requiredForRoles, where "*" means every role.
export function mfaRequired (roles: readonly string[], requiredForRoles: readonly string[]): boolean {
  return requiredForRoles.includes('*') || roles.some((r) => requiredForRoles.includes(r))
}
