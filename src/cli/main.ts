// The `gatehouse` command line: parse, load the config, dispatch. Exit codes: 0 done / intact /
// compliant, 1 a finding, 2 bad usage or bad config. Every error is one line on stderr.
import { readFileSync } from 'node:fs'
import { ConfigError, errors } from '../errors.js'
import { loadConfig } from '../config/load.js'
import { locateConfig, type ConfigLocation } from '../config/locate.js'
import { roleModelProblems } from '../rbac/policy.js'
import type { GatehouseConfig } from '../config/schema.js'
import { processIo, type Io } from './output.js'
import { commandHandler } from './commands.js'
import { parseCommandLine, usageOf, globalUsage } from './args.js'
import type { CliDeps } from './types.js'

/** The version in package.json (one level above src/ and dist/ alike). */
function version (): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

function configMissing (where: ConfigLocation): string {
  if (where.source === 'flag') return `no configuration file at ${where.path} (from --config)`
  if (where.source === 'env') return `no configuration file at ${where.path} (from $GATEHOUSE_CONFIG); fix it or pass --config PATH`
  return `no configuration file: looked for ${where.path} ` +
    '(the default, as neither --config nor $GATEHOUSE_CONFIG is set); pass --config PATH'
}

export async function main (argv: string[], io: Io = processIo, deps: CliDeps = {}): Promise<number> {
  const parsed = parseCommandLine(argv)
  if (parsed.kind === 'usage') { io.err(globalUsage()); return 2 }
  if (parsed.kind === 'help') { io.out(parsed.text); return 0 }
  if (parsed.kind === 'version') { io.out(`gatehouse ${version()}`); return 0 }
  if (parsed.kind === 'error') { io.err(`gatehouse: ${parsed.message}`); return 2 }
  const { spec, args } = parsed
  const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n').join('; ')

  try {
    // each command's modules are imported when it runs (see commands.ts)
    if (spec.name === 'mfa qr') return await (await import('./mfa-qr.js')).mfaQr(args, io)
    // talks to a gateway over HTTP: the config, when there is one, only gives its address
    if (spec.name === 'login') return await (await import('./login.js')).login(args, io)
    // compares two named files: the --config one is not loaded
    if (spec.name === 'config diff') return (await import('./config-diff.js')).configDiff(args, io)
  } catch (err) {
    io.err(`gatehouse: ${oneLine(err)}`)
    return 2
  }

  const where = locateConfig(args.config)
  if (!where.exists) { io.err(`gatehouse: ${configMissing(where)}`); return 2 }
  let config: GatehouseConfig
  try {
    config = loadConfig(where.path, [roleModelProblems])
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`gatehouse: invalid configuration (${where.path}):`)
      for (const p of err.problems) io.err(`  ${p}`)
      return 2
    }
    throw err
  }

  try {
    if (spec.name === 'serve') {
      return await (await import('./serve.js')).serve(config, io, () => loadConfig(where.path, [roleModelProblems]))
    }
    if (spec.name === 'certs dev') return (await import('./certs.js')).certsDev(config, io, args.json)
    const handler = await commandHandler(spec.name)
    if (!handler) throw new Error(`no handler for "${spec.name}"`)
    return await handler(config, args, io, deps)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    // bad usage names the command's synopsis, like a bad flag does
    io.err(`gatehouse: ${oneLine(err)}${code === 'GH_ERR_USAGE' ? `; usage: ${usageOf(spec)}` : ''}`)
    // not found is a finding (1); bad usage, bad config, refused input and anything else are 2
    return err instanceof errors.NOT_FOUND ? 1 : 2
  }
}
