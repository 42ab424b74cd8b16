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
  write('Log in with it and enroll TOTP (POST /auth/login, then POST /auth/mfa);')
  write(`the login reply piped into \`${cli} mfa qr\` shows its otpauth_url as a QR code to scan;`)
  write('then, in that session, set your own password: POST /auth/password {current_password, new_password, code};')
  write(`from this shell instead (ends every session of the account): ${cli} user set-password ${BOOTSTRAP_USERNAME} --password-stdin`)
  write('================================================================================')
  return { created: true }
}
