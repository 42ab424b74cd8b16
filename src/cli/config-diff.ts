// `gatehouse config diff OLD NEW`: exit 0 when no compliance check starts failing, 1 when one does,
// 2 when either file is not a valid configuration (every problem listed, as for serve).
import { resolve } from 'node:path'
import { errors, ConfigError } from '../errors.js'
import { loadConfig } from '../config/load.js'
import type { GatehouseConfig } from '../config/schema.js'
import { diffConfigs, renderConfigDiff } from '../ops/config-diff.js'
import type { ParsedArgs } from './types.js'
import type { Io } from './output.js'

export function configDiff (args: ParsedArgs, io: Io): number {
  const files = args.command.slice(2)
  if (files.length !== 2) throw new errors.USAGE('config diff needs two files: OLD NEW')
  const loaded: GatehouseConfig[] = []
  for (const f of files as [string, string]) {
    try {
      loaded.push(loadConfig(resolve(f)))
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      io.err(`gatehouse: invalid configuration (${resolve(f)}):`)
      for (const p of err.problems) io.err(`  ${p}`)
      return 2
    }
  }
  const d = diffConfigs(loaded[0] as GatehouseConfig, loaded[1] as GatehouseConfig)
  io.out(args.json ? JSON.stringify(d) : renderConfigDiff(d))
  return d.newlyFailing ? 1 : 0
}
