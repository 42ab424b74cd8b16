// First start: with no users at all, create `admin` with a generated password that is written
// once (to stderr by the caller) and nowhere else. MFA enrollment happens at its first login.
import type { Actor, AuthDeps } from './deps.js'
import { errors } from '../errors.js'
import type { UserAdmin } from './user-admin.js'

export const BOOTSTRAP_USERNAME = 'admin'

export async function ensureBootstrapAdmin (
  deps: Pick<AuthDeps, 'store' | 'config'>,
  userAdmin: Pick<UserAdmin, 'addUser'>,
  write: (line: string) => void,
  actor: Actor = {},
  /** how the operator runs the command line: `gatehouse`, or `npx gatehouse` where it is not on the PATH */
  cli = 'gatehouse'
): Promise<{ created: boolean }> {
  if (await deps.store.countUsers() > 0) return { created: false }
  const role = Object.hasOwn(deps.config.rbac.roles, 'admin')
    ? 'admin'
    : Object.entries(deps.config.rbac.roles).find(([, r]) => r.permissions.includes('*'))?.[0]
  if (role === undefined) throw new Error('bootstrap: no role "admin" (or any role with permission "*") is configured')
  let password: string | null
  try {
    password = (await userAdmin.addUser(BOOTSTRAP_USERNAME, role, undefined, actor)).generatedPassword
  } catch (err) {
    // another replica won the race to create it
    if (err instanceof errors.CONFLICT) return { created: false }
    throw err
  }
  write('================================================================================')
  write(`Gatehouse bootstrap: created user "${BOOTSTRAP_USERNAME}" (role ${role}).`)
  write(`One-time password (shown only now, not stored in clear): ${password ?? ''}`)
  write('Sign in with it at https://<this gateway>/console/: choose a new password, then enroll TOTP.')
  write('Without a browser: POST /auth/login, POST /auth/password, then POST /auth/mfa with the code;')
  write(`the password change reply piped into \`${cli} mfa qr\` shows its otpauth_url as a QR code to scan.`)
  write('================================================================================')
  return { created: true }
}
