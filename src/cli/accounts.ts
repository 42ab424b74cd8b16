// `gatehouse user …` and `gatehouse key …`: thin wrappers over the one UserAdmin implementation
// (the admin HTTP API uses the same), so both follow the same rules and emit the same audit events.
import { errors } from '../errors.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { CommandHandler, ParsedArgs } from './types.js'
import { table, type Io } from './output.js'
import { openCliContext } from './context.js'
import type { UserAdmin } from '../auth/user-admin.js'

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())

function positional (args: ParsedArgs, index: number, what: string): string {
  const v = args.command[index]
  if (v === undefined || v === '') throw new errors.USAGE(`missing ${what}`)
  return v
}

function noExtra (args: ParsedArgs, count: number): void {
  if (args.command.length > count) throw new errors.USAGE(`unexpected argument "${args.command[count] as string}"`)
}

/** --password-stdin: typed twice at a terminal (no echo), else read from the pipe. */
async function stdinPassword (io: Io): Promise<string> {
  if (io.readPassword) {
    const password = await io.readPassword('New password: ')
    if (await io.readPassword('Repeat it: ') !== password) throw new errors.USAGE('the two passwords differ; nothing was changed')
    return password
  }
  const text = await io.readStdin()
  // one trailing newline from `echo`/heredocs is not part of the password; anything else is kept as typed
  return text.replace(/\r?\n$/, '')
}

function withAdmin (run: (admin: UserAdmin, config: GatehouseConfig, args: ParsedArgs, io: Io) => Promise<number>): CommandHandler {
  return async (config, args, io, deps) => {
    const ctx = await openCliContext(config, deps)
    try { return await run(ctx.auth.userAdmin, config, args, io) } finally { await ctx.close() }
  }
}

function printUser (io: Io, json: boolean, user: object, text: string): number {
  io.out(json ? JSON.stringify({ user }) : text)
  return 0
}

export const accountCommands: Record<string, CommandHandler> = {
  'user add': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME')
    noExtra(args, 3)
    if (!args.role) throw new errors.USAGE('missing --role ROLE')
    const password = args.passwordStdin ? await stdinPassword(io) : undefined
    const r = await admin.addUser(name, args.role, password, {}, { temporary: args.temporary === true })
    if (args.json) io.out(JSON.stringify({ user: r.user, ...(r.generatedPassword ? { one_time_password: r.generatedPassword } : {}) }))
    else {
      io.out(`created user ${r.user.username} (role ${r.user.roles.join(',')})`)
      if (r.generatedPassword) io.out(`one-time password (shown once): ${r.generatedPassword}`)
    }
    return 0
  }),
  'user list': withAdmin(async (admin, _c, args, io) => {
    noExtra(args, 2)
    const users = await admin.listUsers()
    if (args.json) { io.out(JSON.stringify({ users })); return 0 }
    io.out(table(users.map((u) => ({
      name: u.username, roles: u.roles, status: u.status, source: u.source, mfa: u.mfaEnrolled ? 'enrolled' : 'no',
      last_login: iso(u.lastLoginAt), failed: u.failedCount, locked_until: iso(u.lockedUntil)
    })), ['name', 'roles', 'status', 'source', 'mfa', 'last_login', 'failed', 'locked_until']))
    return 0
  }),
  'user disable': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    const u = await admin.disableUser(name)
    return printUser(io, args.json, u, `disabled ${u.username}; its sessions are ended`)
  }),
  'user delete': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    const r = await admin.deleteUser(name)
    if (args.json) { io.out(JSON.stringify({ deleted: r })); return 0 }
    io.out(`deleted ${r.username}: account, password hash, TOTP secret and ${r.sessions} session(s) removed; ` +
      'audit events naming it are kept')
    return 0
  }),
  'user enable': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    const u = await admin.enableUser(name)
    return printUser(io, args.json, u, `enabled ${u.username}`)
  }),
  'user set-role': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); const role = positional(args, 3, 'ROLE'); noExtra(args, 4)
    const u = await admin.setRole(name, role)
    return printUser(io, args.json, u, `${u.username} now has role ${u.roles.join(',')}; its sessions are ended`)
  }),
  'user reset-mfa': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    const u = await admin.resetMfa(name)
    return printUser(io, args.json, u, `reset MFA of ${u.username}; it enrolls again at next login`)
  }),
  'user unlock': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    const u = await admin.unlock(name)
    return printUser(io, args.json, u, `unlocked ${u.username}`)
  }),
  'user set-password': withAdmin(async (admin, _c, args, io) => {
    const name = positional(args, 2, 'NAME'); noExtra(args, 3)
    if (!args.passwordStdin) throw new errors.USAGE('set-password reads the new password from standard input: use --password-stdin')
    const u = await admin.setPassword(name, await stdinPassword(io), {}, { temporary: args.temporary === true })
    return printUser(io, args.json, u, `password of ${u.username} changed; its sessions are ended`)
  }),
  'key create': withAdmin(async (admin, _c, args, io) => {
    noExtra(args, 2)
    if (!args.name) throw new errors.USAGE('missing --name NAME')
    if (!args.role) throw new errors.USAGE('missing --role ROLE')
    const r = await admin.createKey({ name: args.name, role: args.role, expiresIn: args.expiresIn ?? null })
    if (args.json) io.out(JSON.stringify({ key: r.key, record: r.record }))
    else {
      io.out(`created key ${r.record.id} (${r.record.name}, role ${r.record.role}, expires ${iso(r.record.expiresAt) ?? 'never'})\n` +
        `${r.key}\nthis key is shown once; only its hash is stored`)
    }
    return 0
  }),
  'key list': withAdmin(async (admin, _c, args, io) => {
    noExtra(args, 2)
    const keys = await admin.listKeys()
    if (args.json) { io.out(JSON.stringify({ keys })); return 0 }
    io.out(table(keys.map((k) => ({
      id: k.id, name: k.name, role: k.role, prefix: `ghk_${k.prefix}…`, status: k.status,
      created: iso(k.createdAt), expires: iso(k.expiresAt), grace_until: iso(k.graceUntil), last_used: iso(k.lastUsedAt)
    })), ['id', 'name', 'role', 'prefix', 'status', 'created', 'expires', 'grace_until', 'last_used']))
    return 0
  }),
  'key revoke': withAdmin(async (admin, _c, args, io) => {
    const id = positional(args, 2, 'ID'); noExtra(args, 3)
    const k = await admin.revokeKey(id)
    io.out(args.json ? JSON.stringify({ key: k }) : `revoked key ${k.id} (${k.name})`)
    return 0
  }),
  'key rotate': withAdmin(async (admin, _c, args, io) => {
    const id = positional(args, 2, 'ID'); noExtra(args, 3)
    const r = await admin.rotateKey(id, args.grace ?? null)
    if (args.json) io.out(JSON.stringify({ key: r.key, record: r.record, previous: r.previous }))
    else {
      io.out(`rotated key ${r.previous.id} (${r.record.name}): it works until ${iso(r.previous.graceUntil) ?? 'now'}\n` +
        `new key ${r.record.id} (role ${r.record.role}, expires ${iso(r.record.expiresAt) ?? 'never'})\n` +
        `${r.key}\nthis key is shown once; only its hash is stored`)
    }
    return 0
  })
}
