// Where the configuration file is, the same way for `serve` and every other command: --config,
// else $GATEHOUSE_CONFIG, else config/gatehouse.yaml under the working directory.
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { configPathFrom } from './load.js'

export interface ConfigLocation {
  /** absolute path */
  path: string
  /** what named it */
  source: 'flag' | 'env' | 'default'
  exists: boolean
}

export function locateConfig (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ConfigLocation {
  const path = configPathFrom(flag, env)
  const source = flag !== undefined ? 'flag' : env.GATEHOUSE_CONFIG !== undefined ? 'env' : 'default'
  return { path, source, exists: existsSync(path) }
}

/**
 * How a person starts the command line from their shell: `gatehouse` when it is on $PATH, else
 * `npx gatehouse` (a checkout or a local install). The node_modules/.bin folders that npm and npx
 * put on the PATH of what they run are not the shell's, so they do not count.
 */
export function cliInvocation (env: NodeJS.ProcessEnv = process.env): string {
  const npmBin = join('node_modules', '.bin')
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d.length > 0 && !d.replace(/[\\/]+$/, '').endsWith(npmBin))
  return dirs.some((d) => existsSync(join(d, 'gatehouse'))) ? 'gatehouse' : 'npx gatehouse'
}
