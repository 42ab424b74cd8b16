// Runs the real `gatehouse` command line in-process with captured output.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { main } from '../../src/cli/main.js'
import { cheapPasswords } from './passwords.js'

export interface CliRun { code: number, out: string, err: string, json: () => unknown }

export function tempConfig (extra: Record<string, unknown> = {}): { dir: string, file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'))
  const file = join(dir, 'gatehouse.yaml')
  writeFileSync(file, stringify({
    dataDir: './data',
    store: { url: 'sqlite:./data/gatehouse.db' },
    tls: { cert: './certs/server.crt', key: './certs/server.key' },
    audit: { sinks: [{ type: 'file', path: './logs/audit.log' }] },
    ...extra
  }))
  return { dir, file }
}

export async function cli (args: string[], stdin = ''): Promise<CliRun> {
  let out = ''
  let err = ''
  const code = await main(args, {
    out: (t) => { out += t.endsWith('\n') ? t : t + '\n' },
    err: (t) => { err += t.endsWith('\n') ? t : t + '\n' },
    readStdin: async () => stdin
  }, { passwords: cheapPasswords })
  return { code, out, err, json: () => JSON.parse(out) as unknown }
}
