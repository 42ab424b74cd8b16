// What every command module shares: the parsed command line and the shape of a command handler.
import type { GatehouseConfig } from '../config/schema.js'
import type { PasswordHasher } from '../auth/passwords.js'
import type { Io } from './output.js'
import type { ParsedArgs } from './args.js'

export type { ParsedArgs } from './args.js'

/** What commands stand on besides the config; the defaults are the production ones. */
export interface CliDeps {
  /** how account commands hash passwords; argon2id with OWASP parameters by default */
  passwords?: PasswordHasher
}

export type CommandHandler = (config: GatehouseConfig, args: ParsedArgs, io: Io, deps?: CliDeps) => Promise<number>
