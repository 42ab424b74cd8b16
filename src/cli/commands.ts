// Command table: `group sub` → handler. Each group lives in its own file.
import type { CommandHandler } from './types.js'
import { accountCommands } from './accounts.js'
import { auditCommands } from './audit.js'
import { opsCommands } from './ops-commands.js'
import { upstreamCommands } from './upstreams.js'
import { usageCommands } from './usage.js'

export const commandHandlers: Record<string, CommandHandler> = {
  ...accountCommands,
  ...auditCommands,
  ...opsCommands,
  ...upstreamCommands,
  ...usageCommands
}
