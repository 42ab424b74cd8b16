// CLI output: one JSON document on stdout with --json, human text otherwise; errors one line on stderr.
import { readHiddenLine } from './prompt.js'

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  /** standard input as text (for --password-stdin) */
  readStdin: () => Promise<string>
  /** present when standard input is a terminal: asks on stderr and reads a line without echo */
  readPassword?: (prompt: string) => Promise<string>
}

export const processIo: Io = {
  out: (t) => { process.stdout.write(t.endsWith('\n') ? t : t + '\n') },
  err: (t) => { process.stderr.write(t.endsWith('\n') ? t : t + '\n') },
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  },
  ...(process.stdin.isTTY ? { readPassword: (prompt: string) => readHiddenLine(process.stdin, process.stderr, prompt) } : {})
}

export function table (rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v))
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n')
}
