// What every command module shares: the parsed command line and the shape of a command handler.
import type { GatehouseConfig } from '../config/schema.js'
import type { Io } from './output.js'

export interface ParsedArgs {
  command: string[]
  json: boolean
  role?: string
  name?: string
  passwordStdin: boolean
  expiresIn?: string
  days?: string
  out?: string
  /** compliance check: the webhook URL to post the report to */
  notify?: string
}

export type CommandHandler = (config: GatehouseConfig, args: ParsedArgs, io: Io) => Promise<number>
