// `gatehouse user delete NAME`: removes the person's account data, keeps the audit events naming
// them, audits the deletion, and refuses an unknown name.
import { beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tempConfig } from '../helpers/cli.js'

let cfg: { dir: string, file: string }
const run = (args: string[], stdin?: string) => cli([...args, '--config', cfg.file], stdin)
const auditLines = () => readFileSync(join(cfg.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { event: { action: string }, user?: { target?: { name?: string } } })

beforeAll(() => { cfg = tempConfig() })

describe('gatehouse user delete', () => {
  it('deletes the account; the user-created event stays and user-deleted is added', async () => {
    expect((await run(['user', 'add', 'erin', '--role', 'user'])).code).toBe(0)
    const r = await run(['user', 'delete', 'Erin', '--json'])
    expect(r.code).toBe(0)
    expect(r.json()).toEqual({ deleted: { username: 'erin', sessions: 0 } })
    const users = ((await run(['user', 'list', '--json'])).json() as { users: Array<{ username: string }> }).users
    expect(users.map((u) => u.username)).not.toContain('erin')
    const about = auditLines().filter((e) => e.user?.target?.name === 'erin').map((e) => e.event.action)
    expect(about).toEqual(['user-created', 'user-deleted'])
  })

  it('an unknown name fails and changes nothing', async () => {
    const r = await run(['user', 'delete', 'nobody'])
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/not found/i)
  })
})
