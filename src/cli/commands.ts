// Command table: `group sub` → handler. Each group lives in its own file.
import type { CommandHandler } from './main.js'

export const commandHandlers: Record<string, CommandHandler> = {}
