// What CLI commands that change accounts need: the gateway's core services without HTTP, with an
// audit chain of their own (replica `<id>-cli`) so a running server's chain is never forked.
import type { GatehouseConfig } from '../config/schema.js'
import { openCoreServices, type CoreServices } from '../services.js'
import { systemClock } from '../clock.js'
import type { CliDeps } from './types.js'

export type CliContext = Pick<CoreServices, 'auth' | 'close'>

export async function openCliContext (config: GatehouseConfig, deps: CliDeps = {}): Promise<CliContext> {
  return await openCoreServices(config, { clock: systemClock, replicaSuffix: '-cli', passwords: deps.passwords })
}
