// `npm audit --omit=dev --json | gatehouse scan record` as `npm run audit:deps` runs it: the real
// binary reads the report on stdin and writes a timestamped record into compliance.scanDir; npm's
// error document (no registry, no audit endpoint) is exit 2 with nothing written. No network.
import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { BIN } from '../helpers/process.js'
import { tempConfig } from '../helpers/cli.js'

const cfg = tempConfig({ compliance: { scanDir: './scans' } })
afterAll(() => { rmSync(cfg.dir, { recursive: true, force: true }) })
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../unit/ops/fixtures', name), 'utf8')

function record (stdin: string): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'scan', 'record', '--json', '--config', cfg.file], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.once('close', (code) => { resolve({ code, out, err }) })
    child.stdin.end(stdin)
  })
}

describe('gatehouse scan record', () => {
  it('npm\'s error document is refused with exit 2 and no record is written', async () => {
    const r = await record(fixture('npm-audit-error.json'))
    expect(r.code).toBe(2)
    expect(r.err).toContain('npm audit failed (405 Method Not Allowed')
    expect(existsSync(join(cfg.dir, 'scans'))).toBe(false)
  })

  it('a report on stdin becomes npm-audit-<time>.json in compliance.scanDir with its counts', async () => {
    const r = await record(fixture('npm-audit-report.json'))
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as { file: string, counts: Record<string, number> }
    expect(out.counts).toEqual({ critical: 0, high: 1, moderate: 2, low: 0, info: 0 })
    expect(readdirSync(join(cfg.dir, 'scans'))).toEqual([out.file.slice(join(cfg.dir, 'scans').length + 1)])
    expect(out.file).toMatch(/npm-audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json$/)
    expect(JSON.parse(readFileSync(out.file, 'utf8'))).toMatchObject({ kind: 'gatehouse-scan', scanner: 'npm-audit', counts: { high: 1 } })
  })
})
