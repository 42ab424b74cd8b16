// Pure rules of single sign-on: which account an ID token (or IdP access token) names, which roles
// its groups give, whether the IdP's MFA counts, and the sealed browser state of a sign-in in flight.
import { canonicalUsername, usernameProblem } from '../usernames.js'
import type { SecretBox } from '../totp.js'
import type { PendingSignIn } from './client.js'

/** The claim's value as a Gatehouse user name (canonical like local names), or null when unusable. */
export function usernameFromClaims (claims: Record<string, unknown>, claim: string): string | null {
  const raw = claims[claim]
  if (typeof raw !== 'string') return null
  const name = canonicalUsername(raw)
  return usernameProblem(name) === null ? name : null
}

/** The groups claim as a list: an array of strings, or one string; anything else is no group. */
export function groupsFromClaims (claims: Record<string, unknown>, claim: string): string[] {
  const v = claims[claim]
  if (typeof v === 'string') return [v]
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : []
}

/** Roles of the mapped groups, each once, in mapping order; groups without a mapping give nothing. */
export function rolesFromGroups (groups: readonly string[], roleMapping: Readonly<Record<string, string>>): string[] {
  const have = new Set(groups)
  const roles: string[] = []
  for (const [group, role] of Object.entries(roleMapping)) {
    if (have.has(group) && !roles.includes(role)) roles.push(role)
  }
  return roles
}

/** True when the ID token's `amr` names a method of `mfaFromIdp`. */
export function idpDidMfa (claims: Record<string, unknown>, mfaFromIdp: readonly string[]): boolean {
  const amr = claims.amr
  return Array.isArray(amr) && amr.some((m) => typeof m === 'string' && mfaFromIdp.includes(m))
}

/** The browser's half of a sign-in in flight, sealed (AES-GCM) so it can be neither read nor forged. */
export interface SealedState extends PendingSignIn { expiresAt: number }

// a colon never occurs in a user name, so no TOTP secret sealed for an account can pass for a state
const STATE_AAD = 'oidc:state'

export function sealState (box: SecretBox, s: SealedState): string {
  return box.encrypt(JSON.stringify([s.state, s.nonce, s.verifier, s.expiresAt]), STATE_AAD).replace(/\+/g, '-').replace(/\//g, '_')
    .replace(/=+$/, '')
}

/** The sealed state, or null when it was tampered with, is malformed, or is not ours. */
export function unsealState (box: SecretBox, sealed: string): SealedState | null {
  try {
    const b64 = sealed.replace(/-/g, '+').replace(/_/g, '/')
    const parsed: unknown = JSON.parse(box.decrypt(b64 + '='.repeat((4 - (b64.length % 4)) % 4), STATE_AAD))
    if (!Array.isArray(parsed) || parsed.length !== 4) return null
    const [state, nonce, verifier, expiresAt] = parsed as unknown[]
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof expiresAt !== 'number') return null
    return { state, nonce, verifier, expiresAt }
  } catch {
    return null
  }
}
