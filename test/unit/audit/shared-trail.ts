// A file sink shared by a gateway chain (`r1`) and the CLI's chain (`r1-cli`), as `gatehouse user …`
// writes it: rotated files ten days apart on an injected clock, the CLI's first events in the oldest.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { manualClock, type ManualClock } from '../../helpers/clock.js'
import { auditConfig, fileSink, lines, openLog, tempDir, writeEvents } from './fixtures.js'

export const DAY = 86_400_000
export const GW = 'r1'
export const CLI = 'r1-cli'

export interface SharedTrail { dir: string, path: string, clock: ManualClock, cleanup: () => void }

/** Log files of the trail (not the checkpoint file), oldest first. */
export const logFiles = (t: { dir: string, path: string }): string[] => {
  const names = readdirSync(t.dir).filter((n) => n.startsWith('audit.log.') && !n.endsWith('.checkpoints')).sort()
  return [...names.map((n) => join(t.dir, n)), t.path]
}

export const chainOf = (line: string): { replica: string, seq: number, prev: string, hash: string } =>
  (JSON.parse(line) as { gatehouse: { chain: { replica: string, seq: number, prev: string, hash: string } } }).gatehouse.chain

/** The chain links of `replica` in a file, in file order. */
export const linksOf = (file: string, replica: string) => lines(file).map(chainOf).filter((c) => c.replica === replica)

export const checkpointLines = (t: { path: string }): string[] => lines(t.path + '.checkpoints')
export const checkpointsOf = (t: { path: string }) =>
  checkpointLines(t).map((l) => JSON.parse(l) as { replica: string, seq: number, hash: string, rotation?: true, retention?: true })

/** One CLI command: opens the CLI's chain on the same file sink, writes `n` events, closes (with its final checkpoint). */
export async function cliCommand (t: { path: string, clock: ManualClock }, n: number, from: number, maxBytes = 2048): Promise<void> {
  const cli = await openLog(auditConfig([fileSink(t.path, maxBytes)]), { clock: t.clock, replicaId: CLI })
  await writeEvents(cli, n, from)
  await cli.close()
}

/**
 * Six gateway batches ten days apart, rotating at 2 KiB; the CLI writes right after the gateway's
 * first events (so its first events sit in the oldest file) and, with `cliLater`, once more in the
 * fifth batch (its chain then continues in files that stay).
 */
export async function sharedTrail (o: { cliLater: boolean }): Promise<SharedTrail> {
  const t = tempDir()
  const path = join(t.dir, 'audit.log')
  const clock = manualClock(Date.UTC(2026, 0, 1))
  const trail = { dir: t.dir, path, clock, cleanup: t.cleanup }
  const gw = await openLog(auditConfig([fileSink(path, 2048)]), { clock })
  await writeEvents(gw, 1, 0)
  await cliCommand(trail, 2, 100)
  for (let i = 0; i < 6; i++) {
    await writeEvents(gw, 5, i * 5)
    if (o.cliLater && i === 4) await cliCommand(trail, 2, 200)
    clock.advance(10 * DAY)
  }
  await gw.close()
  return trail
}

export const read = (f: string): string => readFileSync(f, 'utf8')
