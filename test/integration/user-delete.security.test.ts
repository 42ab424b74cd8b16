// Deleting a person's account data: the account, its TOTP secret, sessions and failure counter go,
// a live session of theirs stops working on the next request — also once the name is reused — and
// the deletion is audited while earlier events naming them stay untouched.
import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, enrolledSession, bearer, TEST_PASSWORD, type Harness } from '../unit/auth/harness.js'

let h: Harness
afterEach(async () => { await h.close() })

const tags = (token: string) => h.app.inject({ method: 'GET', url: '/api/tags', headers: bearer(token) })

describe('user delete', () => {
  it('removes the account data, ends a live (cached) session at once, and is audited as user-deleted', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    expect((await tags(token)).statusCode).toBe(200) // the signature check is now cached
    const before = h.events.length
    expect(await h.auth.userAdmin.deleteUser('ALICE', { userName: 'admin' })).toEqual({ username: 'alice', sessions: 1 })
    expect(await h.store.getUser('alice')).toBeNull()
    expect(await h.store.listSessions('alice')).toEqual([])
    expect((await tags(token)).statusCode).toBe(401)
    expect(h.events.slice(before)).toContainEqual({ action: 'user-deleted', outcome: 'success', userName: 'admin', target: { userName: 'alice' } })
  })

  it('a session of the deleted user does not come back when the name is given to someone new', async () => {
    h = await createHarness()
    const { token } = await enrolledSession(h)
    await h.auth.userAdmin.deleteUser('alice')
    await h.auth.userAdmin.addUser('alice', 'admin', TEST_PASSWORD)
    expect((await tags(token)).statusCode).toBe(401)
    // the new account starts from scratch: no TOTP secret of the old one
    expect(await h.store.getUser('alice')).toMatchObject({ totpSecretEnc: null, totpEnrolled: false, roles: ['admin'] })
  })

  it('an unknown user is GH_ERR_NOT_FOUND and nothing is audited', async () => {
    h = await createHarness()
    const before = h.events.length
    await expect(h.auth.userAdmin.deleteUser('nobody')).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
    expect(h.events.slice(before)).toEqual([])
  })
})
