// One account, one lockout counter: every way of typing a name maps to one canonical form before
// any lookup, so `ALICE`, ` alice` and fullwidth `ａｌｉｃｅ` are the same user.

/** Longest name accepted anywhere; longer input is treated as an unknown user, never stored. */
export const MAX_USERNAME_LENGTH = 64

/** NFKC, trimmed, lower case (NFKC again: lower-casing can leave a non-normalized string, e.g. `İ`). */
export function canonicalUsername (raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase().normalize('NFKC')
}

// Names that are safe in an otpauth label, a log line and a terminal: no spaces, colons or controls.
const VALID = /^[a-z0-9][a-z0-9._@-]*$/

/** Why a canonical name cannot be used for a new account, or null when it can. */
export function usernameProblem (canonical: string): string | null {
  if (canonical.length === 0) return 'username must not be empty'
  if (canonical.length > MAX_USERNAME_LENGTH) return `username must be at most ${MAX_USERNAME_LENGTH} characters`
  if (!VALID.test(canonical)) return 'username may contain only a-z, 0-9 and . _ @ - (and must start with a letter or digit)'
  return null
}
