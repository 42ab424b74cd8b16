import { afterEach, describe, expect, it } from 'vitest'
import { createHarness, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

describe('bootstrap admin', () => {
  it('with no users, creates admin (role admin) and writes its one-time password once', async () => {
    h = await createHarness()
    const lines: string[] = []
    expect(await h.auth.ensureBootstrapAdmin((l) => lines.push(l))).toEqual({ created: true })
    const passwordLine = lines.find((l) => l.includes('One-time password')) as string
    const password = /: (\S+)$/.exec(passwordLine)?.[1] as string
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    const admin = await h.store.getUser('admin')
    expect(admin?.roles).toEqual(['admin'])
    expect(admin?.passwordHash).not.toContain(password)
    expect(JSON.stringify(h.events)).not.toContain(password)

    // a second start does nothing and prints nothing
    const again: string[] = []
    expect(await h.auth.ensureBootstrapAdmin((l) => again.push(l))).toEqual({ created: false })
    expect(again).toEqual([])

    // the password is one-time: the first login opens a session that can only change it (TOTP enrollment follows)
    const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin', password } })
    expect(r.json()).toMatchObject({ status: 'ok', password_change_required: true })
  })

  it('does nothing when any user exists', async () => {
    h = await createHarness()
    await h.auth.userAdmin.addUser('someone', 'user', 'violet-harbor-cinnamon-42')
    const lines: string[] = []
    expect(await h.auth.ensureBootstrapAdmin((l) => lines.push(l))).toEqual({ created: false })
    expect(lines).toEqual([])
    expect(await h.store.getUser('admin')).toBeNull()
  })
})
