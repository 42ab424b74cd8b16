// Command table: `group sub` → handler. Each group lives in its own file and is loaded only when one
// of its commands runs: a command starts with the modules it uses, not every other command's (the
// account commands load the store and password hashing, the ops commands the compliance checks).
import type { CommandHandler } from './types.js'

type Group = Record<string, CommandHandler>
const accounts = async (): Promise<Group> => (await import('./accounts.js')).accountCommands
const GROUPS: Record<string, () => Promise<Group>> = {
  user: accounts,
  key: accounts,
  audit: async () => (await import('./audit.js')).auditCommands,
  upstreams: async () => (await import('./upstreams.js')).upstreamCommands,
  usage: async () => (await import('./usage.js')).usageCommands
}
/** compliance, evidence, scan, retention and the other operations commands */
const ops = async (): Promise<Group> => (await import('./ops-commands.js')).opsCommands

/** The handler of a command (`user add`), or undefined when no group has it. */
export async function commandHandler (name: string): Promise<CommandHandler | undefined> {
  const group = await (GROUPS[name.split(' ')[0] as string] ?? ops)()
  return Object.hasOwn(group, name) ? group[name] : undefined
}
