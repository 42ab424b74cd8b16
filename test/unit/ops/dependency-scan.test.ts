// Vulnerability-scan evidence: npm audit output becomes a scan record (a failed audit never becomes
// a clean one), Trivy reports are read as they are, and the dependency-scan check fails on a stale
// scan or an open high/critical finding in the newest scan of any target.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dependencyScanCheck, recordFromNpmAudit, summarizeScan, type ScanSummary } from '../../../src/ops/dependency-scan.js'
import { readScanFacts, writeScanRecord, SBOM_FILE } from '../../../src/ops/scan-files.js'
import { DAY, NOW } from './compliance-fixtures.js'

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'))

const trivy = (created: string | undefined, vulns: Array<{ id: string, severity: string, fixed?: string }>) => ({
  SchemaVersion: 2,
  ...(created === undefined ? {} : { CreatedAt: created }),
  ArtifactName: 'ollama/ollama:0.12.0',
  ArtifactType: 'container_image',
  Results: [{
    Target: 'ollama/ollama:0.12.0 (ubuntu 22.04)', Class: 'os-pkgs', Type: 'ubuntu',
    Vulnerabilities: vulns.map((v) => ({ VulnerabilityID: v.id, PkgName: 'openssl', InstalledVersion: '3.0.2', FixedVersion: v.fixed ?? '', Severity: v.severity, Title: 't' }))
  }, { Target: 'Node.js', Class: 'lang-pkgs', Type: 'node-pkg' }]
})

const summary = (over: Partial<ScanSummary>): ScanSummary => ({
  file: 'f.json', scanner: 'npm-audit', target: 'deps', scannedAt: new Date(NOW - DAY).toISOString(),
  counts: { critical: 0, high: 0, moderate: 0, low: 0, info: 0 }, blocking: [], ...over
})
const facts = (scans: ScanSummary[]) => ({ dir: '/scans', scans, unreadable: [], sbom: null })

let dir: string | null = null
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); dir = null })

describe('recording npm audit output', () => {
  it('keeps the counts from the report\'s metadata and one finding per vulnerable package, worst first', () => {
    const r = recordFromNpmAudit(fixture('npm-audit-report.json'), NOW)
    expect(r).toMatchObject({ kind: 'gatehouse-scan', version: 1, scanner: 'npm-audit', scannedAt: new Date(NOW).toISOString() })
    expect(r.counts).toEqual({ critical: 0, high: 1, moderate: 2, low: 0, info: 0 })
    expect(r.findings.map((f) => [f.package, f.severity, f.id, f.fixAvailable])).toEqual([
      ['node-forge', 'high', 'GHSA-x4jg-mjrx-434g', true],
      ['semver', 'moderate', 'GHSA-c2qf-rxjj-qqgw', true],
      ['some-wrapper', 'moderate', 'via:semver', false]
    ])
  })

  it('refuses npm\'s error document (registry unreachable or no audit endpoint) instead of recording a clean scan', () => {
    expect(() => recordFromNpmAudit(fixture('npm-audit-error.json'), NOW)).toThrow(/npm audit failed .*nothing recorded/)
    expect(() => recordFromNpmAudit({ hello: 1 }, NOW)).toThrow(/not an npm audit report/)
    expect(() => recordFromNpmAudit([], NOW)).toThrow(/not an npm audit JSON report/)
  })

  it('a written record reads back as the same scan, and the check fails on its high finding', () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-scan-'))
    const file = writeScanRecord(join(dir, 'scans'), recordFromNpmAudit(fixture('npm-audit-report.json'), NOW - DAY))
    const f = readScanFacts(join(dir, 'scans'))
    expect(f.unreadable).toEqual([])
    expect(f.scans).toHaveLength(1)
    expect(f.scans[0]).toMatchObject({ file, scanner: 'npm-audit', counts: { high: 1, moderate: 2 } })
    expect(f.scans[0]?.blocking.map((b) => b.package)).toEqual(['node-forge'])
    const c = dependencyScanCheck(f, NOW)
    expect(c).toMatchObject({ id: 'dependency-scan', control: 'CC6.8', verdict: 'fail' })
    expect(c.detail).toContain('node-forge GHSA-x4jg-mjrx-434g')
  })
})

describe('reading Trivy reports', () => {
  it('counts every vulnerability by severity (MEDIUM is moderate) and takes CreatedAt as the scan time', () => {
    const s = summarizeScan('t.json', trivy('2026-05-30T10:00:00Z', [{ id: 'CVE-1', severity: 'CRITICAL', fixed: '3.0.3' }, { id: 'CVE-2', severity: 'MEDIUM' }, { id: 'CVE-3', severity: 'UNKNOWN' }]), 0)
    expect(s).toMatchObject({ scanner: 'trivy', target: 'ollama/ollama:0.12.0', scannedAt: '2026-05-30T10:00:00.000Z', counts: { critical: 1, high: 0, moderate: 1, low: 0, info: 1 } })
    expect(s?.blocking).toEqual([{ id: 'CVE-1', package: 'openssl@3.0.2', severity: 'critical', title: 't', fixAvailable: true }])
  })

  it('falls back to the file time without CreatedAt, and reads a report without Results as clean', () => {
    expect(summarizeScan('t.json', trivy(undefined, []), NOW)?.scannedAt).toBe(new Date(NOW).toISOString())
    expect(summarizeScan('t.json', { SchemaVersion: 2, ArtifactName: 'x' }, NOW)?.counts.critical).toBe(0)
  })

  it('other JSON in the folder is listed as unreadable and makes a passing check a warning; the SBOM is not a scan', () => {
    const d = mkdtempSync(join(tmpdir(), 'gh-scan-'))
    dir = d
    writeFileSync(join(dir, 'trivy-ollama.json'), JSON.stringify(trivy(new Date(NOW - DAY).toISOString(), [{ id: 'CVE-9', severity: 'LOW' }])))
    const old = join(dir, 'notes.json')
    writeFileSync(old, '{"a":1}')
    writeFileSync(join(dir, 'broken.json'), '{')
    writeFileSync(join(dir, SBOM_FILE), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{}, {}] }))
    utimesSync(old, new Date(NOW), new Date(NOW))
    const f = readScanFacts(dir)
    expect(f.scans.map((s) => s.target)).toEqual(['ollama/ollama:0.12.0'])
    expect(f.unreadable.map((u) => [u.file.slice(d.length + 1), u.error])).toEqual([['broken.json', 'not JSON'], ['notes.json', 'neither a Gatehouse scan record nor a Trivy JSON report']])
    expect(f.sbom).toMatchObject({ format: 'CycloneDX 1.5', components: 2 })
    expect(f.sbom?.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(dependencyScanCheck(f, NOW).verdict).toBe('warn')
  })

  it('a missing folder is no scans, not an error', () => {
    const f = readScanFacts(join(tmpdir(), 'gh-scan-does-not-exist-' + String(process.pid)))
    expect(f).toMatchObject({ scans: [], unreadable: [], sbom: null })
  })
})

describe('the dependency-scan check', () => {
  it('passes when every target\'s newest scan is recent and clean', () => {
    const c = dependencyScanCheck(facts([summary({}), summary({ target: 'gatehouse:0.1.0', scanner: 'trivy', counts: { critical: 0, high: 0, moderate: 4, low: 9, info: 0 } })]), NOW)
    expect(c.verdict).toBe('pass')
    expect((c.evidence.targets as unknown[])).toHaveLength(2)
  })

  it('fails with no scan recorded, naming the folder', () => {
    const c = dependencyScanCheck(facts([]), NOW)
    expect(c.verdict).toBe('fail')
    expect(c.detail).toContain('/scans')
    expect(dependencyScanCheck(undefined, NOW).verdict).toBe('fail')
  })

  it('fails when the newest scan of a target is older than 7 days, and passes at exactly 7 days', () => {
    const stale = summary({ scannedAt: new Date(NOW - 7 * DAY - 1).toISOString() })
    expect(dependencyScanCheck(facts([stale]), NOW)).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('7 days ago') })
    expect(dependencyScanCheck(facts([summary({ scannedAt: new Date(NOW - 7 * DAY).toISOString() })]), NOW).verdict).toBe('pass')
  })

  it('only the newest scan of a target counts: a fixed finding is resolved, a new one is open', () => {
    const high = { id: 'GHSA-1', package: 'p', severity: 'high' as const, title: 't', fixAvailable: true }
    const older = summary({ scannedAt: new Date(NOW - 3 * DAY).toISOString(), counts: { critical: 0, high: 1, moderate: 0, low: 0, info: 0 }, blocking: [high] })
    expect(dependencyScanCheck(facts([older, summary({})]), NOW).verdict).toBe('pass')
    const newer = summary({ scannedAt: new Date(NOW - 1000).toISOString(), counts: { critical: 0, high: 1, moderate: 0, low: 0, info: 0 }, blocking: [high] })
    const c = dependencyScanCheck(facts([summary({}), newer]), NOW)
    expect(c.verdict).toBe('fail')
    expect(c.detail).toBe('deps: 0 critical, 1 high (p GHSA-1)')
  })

  it('one clean target does not hide a stale or vulnerable other target', () => {
    const ollama = summary({ target: 'ollama', scanner: 'trivy', scannedAt: new Date(NOW - 30 * DAY).toISOString() })
    expect(dependencyScanCheck(facts([summary({}), ollama]), NOW).detail).toMatch(/^ollama: last scanned/)
  })
})
