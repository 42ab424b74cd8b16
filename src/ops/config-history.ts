// The hash of the configuration the gateway last started with, kept in dataDir, so each
// config-loaded audit event names the configuration it replaced and the audit trail holds the
// chain of configurations. Replicas that share dataDir share the chain; others keep their own.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const LAST_CONFIG_FILE = 'last-config-hash'
const HASH = /^[0-9a-f]{64}$/

/** The hash recorded by the previous start, or null when there was none (or the file is not one). */
export function readLastConfigHash (dataDir: string): string | null {
  try {
    const text = readFileSync(join(dataDir, LAST_CONFIG_FILE), 'utf8').trim()
    return HASH.test(text) ? text : null
  } catch { return null }
}

export function writeLastConfigHash (dataDir: string, hash: string): void {
  const file = join(dataDir, LAST_CONFIG_FILE)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, hash + '\n', { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}
