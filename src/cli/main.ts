// The `gatehouse` command line: parse, load the config, dispatch. Exit codes (SPEC §3):
// 0 done / intact / compliant, 1 a finding, 2 bad usage or bad config.
import { ConfigError, errors } from '../errors.js'
import { parseArgs } from 'node:util'
import { configPathFrom, loadConfig } from '../config/load.js'
import type { GatehouseConfig } from '../config/schema.js'
import { processIo, type Io } from './output.js'
import { certsDev } from './certs.js'
import { configDiff } from './config-diff.js'
import { serve } from './serve.js'
import { commandHandlers } from './commands.js'
import type { ParsedArgs } from './types.js'

export const USAGE = `usage: gatehouse <command> [--config PATH] [--json]
commands:
  serve                                         run the gateway
  user add NAME --role ROLE [--password-stdin]  create a user
  user list | disable NAME | enable NAME | set-role NAME ROLE | reset-mfa NAME | unlock NAME
  user set-password NAME --password-stdin
  key create --name NAME --role ROLE [--expires-in 90d]
  key list | revoke ID
  audit verify FILE...                          check the audit hash chain and checkpoints
  compliance check [--notify URL]               SOC 2 control checks (--notify: post them to a webhook)
  evidence export --days N --out FILE           evidence bundle for auditors
  scan record [FILE]                            record npm audit --json output (stdin) in compliance.scanDir
  certs dev                                     development CA and server certificate
  config diff OLD NEW                           key changes and compliance checks a config change flips`

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  role: { type: 'string' },
  name: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
  'expires-in': { type: 'string' },
  days: { type: 'string' },
  out: { type: 'string' },
  notify: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false }
} as const

export async function main (argv: string[], io: Io = processIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`gatehouse: ${(err as Error).message}`)
    return 2
  }
  const v = parsed.values
  const args: ParsedArgs = {
    command: parsed.positionals,
    json: v.json === true,
    role: v.role,
    name: v.name,
    passwordStdin: v['password-stdin'] === true,
    expiresIn: v['expires-in'],
    days: v.days,
    out: v.out,
    notify: v.notify
  }
  if (v.help || args.command.length === 0) {
    io[args.command.length === 0 && !v.help ? 'err' : 'out'](USAGE)
    return v.help ? 0 : 2
  }

  // compares two named files: the --config one is not loaded
  if (args.command[0] === 'config' && args.command[1] === 'diff') {
    try { return configDiff(args, io) } catch (err) {
      io.err(`gatehouse: ${(err as Error).message}`)
      return 2
    }
  }

  let config: GatehouseConfig
  try {
    config = loadConfig(configPathFrom(v.config))
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`gatehouse: invalid configuration (${configPathFrom(v.config)}):`)
      for (const p of err.problems) io.err(`  ${p}`)
      return 2
    }
    throw err
  }

  const [group, sub] = args.command
  try {
    if (group === 'serve') return await serve(config, io)
    if (group === 'certs' && sub === 'dev') return certsDev(config, io, args.json)
    const handler = commandHandlers[`${group} ${sub ?? ''}`.trim()]
    if (!handler) throw new errors.USAGE(`unknown command "${args.command.join(' ')}" (see gatehouse --help)`)
    return await handler(config, args, io)
  } catch (err) {
    io.err(`gatehouse: ${(err instanceof Error ? err.message : String(err)).split('\n').join('; ')}`)
    // not found is a finding (1); bad usage, bad config, refused input and anything else are 2
    return err instanceof errors.NOT_FOUND ? 1 : 2
  }
}
