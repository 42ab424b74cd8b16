// The I/O half of the dependency-scan check and of the evidence bundle's scan section: reads every
// scan in compliance.scanDir (Gatehouse scan records, Trivy JSON reports) and the CycloneDX SBOM,
// and writes new scan records there.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { summarizeScan, type SbomFacts, type ScanFacts, type ScanRecord, type ScanSummary } from './dependency-scan.js'

/** `npm run sbom` writes here (in compliance.scanDir); the check and the evidence bundle read it. */
export const SBOM_FILE = 'sbom.cdx.json'

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message

export function readSbom (dir: string): { facts: SbomFacts, document: unknown } | null {
  const file = join(dir, SBOM_FILE)
  if (!existsSync(file)) return null
  const bytes = readFileSync(file)
  let document: unknown = null
  let format: string | null = null
  let components = 0
  try {
    document = JSON.parse(bytes.toString('utf8'))
    const d = document as { bomFormat?: unknown, specVersion?: unknown, components?: unknown }
    format = typeof d.bomFormat === 'string' ? `${d.bomFormat} ${String(d.specVersion ?? '')}`.trim() : null
    components = Array.isArray(d.components) ? d.components.length : 0
  } catch { /* kept as unreadable: the hash still says which file it was */ }
  return { facts: { file, sha256: createHash('sha256').update(bytes).digest('hex'), format, components }, document }
}

export function readScanFacts (dir: string): ScanFacts {
  const scans: ScanSummary[] = []
  const unreadable: ScanFacts['unreadable'] = []
  let names: string[] = []
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && n !== SBOM_FILE).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push({ file: dir, error: code(err) })
  }
  for (const name of names) {
    const file = join(dir, name)
    try {
      const summary = summarizeScan(file, JSON.parse(readFileSync(file, 'utf8')), statSync(file).mtimeMs)
      if (summary) scans.push(summary)
      else unreadable.push({ file, error: 'neither a Gatehouse scan record nor a Trivy JSON report' })
    } catch (err) { unreadable.push({ file, error: err instanceof SyntaxError ? 'not JSON' : code(err) }) }
  }
  return { dir, scans, unreadable, sbom: readSbom(dir)?.facts ?? null }
}

/** Writes a scan record as `<scanner>-<time>.json` (0640) and returns its path. */
export function writeScanRecord (dir: string, record: ScanRecord): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${record.scanner}-${record.scannedAt.replace(/[:.]/g, '-')}.json`)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o640, flag: 'wx' })
  chmodSync(tmp, 0o640)
  renameSync(tmp, file)
  return file
}
