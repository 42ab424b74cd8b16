// Who sees model text unmasked: a role listed in masking.exemptRoles, or one granting the
// `pii:unmasked` permission (which `*` does not include). Everyone else gets masked prompts and
// replies while masking is on.
import type { Policy } from './policy.js'

export type SeesRawOutput = (roles: readonly string[]) => boolean

export function createRawOutputRule (policy: Pick<Policy, 'permits'>, exemptRoles: readonly string[]): SeesRawOutput {
  const exempt = new Set(exemptRoles)
  return (roles) => roles.some((r) => exempt.has(r)) || policy.permits(roles, 'pii:unmasked')
}
