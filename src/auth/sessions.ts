// Ending one session: the one implementation behind `POST /auth/logout` and the admin's
// `DELETE /admin/sessions/:id`. The store's revokedAt is read on every request (validateSessionToken),
// so the session is dead at once on every replica.
import type { Actor, AuthDeps } from './deps.js'

type Deps = Pick<AuthDeps, 'store' | 'clock' | 'audit'>

/**
 * Revokes session `id` and audits a `logout`; false when there is no such session. `by: 'admin'`
 * names the session's user as target, with reason `revoked-by-admin`.
 */
export async function endSession (deps: Deps, id: string, actor: Actor, by: 'owner' | 'admin'): Promise<boolean> {
  const session = await deps.store.getSession(id)
  if (session === null) return false
  await deps.store.revokeSession(id, deps.clock.now())
  deps.audit(by === 'admin'
    ? { action: 'logout', outcome: 'success', ...actor, target: { userName: session.username }, reason: 'revoked-by-admin' }
    : { action: 'logout', outcome: 'success', ...actor })
  return true
}
