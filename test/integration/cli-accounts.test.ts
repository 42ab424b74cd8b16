// `gatehouse user …` and `gatehouse key …`: the account commands, their --json output and exit codes.
import { describe, expect, it, beforeAll } from 'vitest'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { cli, tempConfig } from '../helpers/cli.js'

let cfg: { dir: string, file: string }
const run = (args: string[], stdin?: string) => cli([...args, '--config', cfg.file], stdin)

beforeAll(() => { cfg = tempConfig() })

describe('gatehouse user', () => {
  it('user add without --password-stdin prints a one-time password; with --json one document', async () => {
    const r = await run(['user', 'add', 'Alice', '--role', 'user', '--json'])
    expect(r.code).toBe(0)
    const doc = r.json() as { user: { username: string, roles: string[] }, one_time_password: string }
    expect(doc.user).toMatchObject({ username: 'alice', roles: ['user'] })
    expect(doc.one_time_password.length).toBeGreaterThanOrEqual(16)
  })
  it('user add --password-stdin takes the password from standard input and never prints it', async () => {
    const r = await run(['user', 'add', 'bob', '--role', 'monitor', '--password-stdin'], 'correct horse battery staple\n')
    expect(r.code).toBe(0)
    expect(r.out + r.err).not.toContain('correct horse')
  })
  it('a common password is refused with exit 2', async () => {
    const r = await run(['user', 'add', 'carol', '--role', 'user', '--password-stdin'], 'password1234\n')
    expect(r.code).toBe(2)
    expect(r.err.trim().split('\n')).toHaveLength(1)
  })
  it('an unknown role is exit 2, a duplicate user is refused', async () => {
    expect((await run(['user', 'add', 'dave', '--role', 'wizard'])).code).toBe(2)
    expect((await run(['user', 'add', 'ALICE', '--role', 'user'])).code).toBe(2)
  })
  it('user list --json shows name, roles, status, source, MFA, last login, failed count, lock', async () => {
    const r = await run(['user', 'list', '--json'])
    const users = (r.json() as { users: Array<Record<string, unknown>> }).users
    expect(users.map((u) => u.username)).toEqual(expect.arrayContaining(['alice', 'bob']))
    expect(Object.keys(users[0] ?? {})).toEqual(expect.arrayContaining(['username', 'roles', 'status', 'source', 'mfaEnrolled', 'lastLoginAt', 'failedCount',
      'lockedUntil']))
    expect(users.find((u) => u.username === 'alice')?.source).toBe('local')
  })
  it('user list prints a table for people', async () => {
    const r = await run(['user', 'list'])
    expect(r.out.split('\n')[0]).toMatch(/^NAME\s+ROLES\s+STATUS\s+SOURCE\s+MFA\s+LAST_LOGIN\s+FAILED\s+LOCKED_UNTIL/)
  })
  it('extra arguments are refused (exit 2) before anything changes', async () => {
    const users = async () => ((await run(['user', 'list', '--json'])).json() as { users: Array<{ username: string, status: string, roles: string[] }> }).users
    const disable = await run(['user', 'disable', 'alice', 'bob'])
    expect(disable.code).toBe(2)
    expect(disable.err).toMatch(/unexpected argument "bob"/)
    const setRole = await run(['user', 'set-role', 'alice', 'admin', 'extra'])
    expect(setRole.code).toBe(2)
    expect(await users()).toEqual(expect.arrayContaining([
      expect.objectContaining({ username: 'alice', status: 'active', roles: ['user'] }),
      expect.objectContaining({ username: 'bob', status: 'active' })
    ]))
  })
  it('disable, enable, set-role, reset-mfa, unlock, set-password work by canonical name', async () => {
    expect((await run(['user', 'disable', ' ALICE'])).code).toBe(0)
    expect(((await run(['user', 'list', '--json'])).json() as { users: Array<{ username: string, status: string }> }).users.find((u) => u.username === 'alice')?.status).toBe('disabled')
    expect((await run(['user', 'enable', 'alice'])).code).toBe(0)
    expect((await run(['user', 'set-role', 'alice', 'model-loader', '--json'])).json()).toMatchObject({ user: { roles: ['model-loader'] } })
    expect((await run(['user', 'reset-mfa', 'alice'])).code).toBe(0)
    expect((await run(['user', 'unlock', 'alice'])).code).toBe(0)
    expect((await run(['user', 'set-password', 'alice', '--password-stdin'], 'a much better passphrase\n')).code).toBe(0)
  })
  it('a missing user is a finding: exit 1', async () => {
    expect((await run(['user', 'disable', 'nobody'])).code).toBe(1)
  })
  it('bad usage is exit 2 with one line on stderr', async () => {
    const r = await run(['user', 'add', 'x'])
    expect(r.code).toBe(2)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect((await run(['user', 'frobnicate'])).code).toBe(2)
    expect((await cli(['user', 'list', '--bogus-flag'])).code).toBe(2)
  })
})

describe('gatehouse key', () => {
  it('key create prints the key once and stores only its hash', async () => {
    const r = await run(['key', 'create', '--name', 'app-server', '--role', 'user', '--expires-in', '90d', '--json'])
    expect(r.code).toBe(0)
    const { key, record } = r.json() as { key: string, record: { id: string, expiresAt: number } }
    expect(key).toMatch(/^ghk_[A-Za-z0-9_-]{43,}$/)
    expect(record.expiresAt - Date.now()).toBeGreaterThan(89 * 86_400_000)
    const db = readFileSync(join(cfg.dir, 'data', 'gatehouse.db'))
    expect(db.includes(Buffer.from(key))).toBe(false)
    const list = await run(['key', 'list', '--json'])
    expect(list.out).not.toContain(key)
    expect((list.json() as { keys: Array<{ id: string }> }).keys.map((k) => k.id)).toContain(record.id)
    const revoke = await run(['key', 'revoke', record.id, '--json'])
    expect(revoke.json()).toMatchObject({ key: { status: 'revoked' } })
  })
  it('bad --expires-in is exit 2; revoking an unknown id is exit 1', async () => {
    expect((await run(['key', 'create', '--name', 'x', '--role', 'user', '--expires-in', 'soon'])).code).toBe(2)
    expect((await run(['key', 'revoke', 'no-such-id'])).code).toBe(1)
  })
  it('every change was audited, and no secret reached the audit log', async () => {
    const log = readFileSync(join(cfg.dir, 'logs', 'audit.log'), 'utf8')
    const actions = log.trim().split('\n').map((l) => (JSON.parse(l) as { event: { action: string } }).event.action)
    expect(actions).toEqual(expect.arrayContaining(['user-created', 'user-disabled', 'user-enabled', 'role-changed', 'mfa-reset', 'account-unlocked', 'password-changed', 'key-created', 'key-revoked']))
    expect(log).not.toContain('correct horse')
    expect(log).not.toContain('a much better passphrase')
    expect(log).not.toContain('ghk_')
  })
  it('audit verify accepts the CLI-written log', async () => {
    const r = await run(['audit', 'verify', join(cfg.dir, 'logs', 'audit.log'), '--json'])
    expect(r.json()).toMatchObject({ ok: true })
    expect(r.code).toBe(0)
  })
})

describe('gatehouse audit verify', () => {
  it('exits 1 naming the first bad line and why when a line was edited', async () => {
    const { copyFileSync, writeFileSync: write } = await import('node:fs')
    const log = join(cfg.dir, 'logs', 'audit.log')
    const tampered = join(cfg.dir, 'logs', 'tampered.log')
    copyFileSync(log, tampered)
    const lines = readFileSync(tampered, 'utf8').split('\n')
    lines[1] = (lines[1] as string).replace('"success"', '"failure"')
    write(tampered, lines.join('\n'))
    const r = await run(['audit', 'verify', tampered])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/tampered\.log:2: /)
    const j = await run(['audit', 'verify', tampered, '--json'])
    expect(j.json()).toMatchObject({ ok: false, firstBad: { line: 2 } })
  })
  it('exits 2 on a file that cannot be read', async () => {
    expect((await run(['audit', 'verify', '/nonexistent/audit.log'])).code).toBe(2)
  })
})
