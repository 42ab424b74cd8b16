// Vulnerability scans as evidence: the record `gatehouse scan record` writes from `npm audit --json`,
// the reading of a recorded scan or of a Trivy JSON report into one summary, and the
// `dependency-scan` compliance check over the newest scan of each target. Pure: the files are read
// in scan-files.ts.
import { errors } from '../errors.js'

const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const
export type Severity = (typeof SEVERITIES)[number]
export type SeverityCounts = Record<Severity, number>

/** A scan older than this fails the check. */
const SCAN_MAX_AGE_DAYS = 7
const DAY = 86_400_000
/** findings listed per target in the evidence (the counts are always complete) */
const LISTED = 25

/** The check's result, in the shape compliance.ts collects (a CheckResult) */
export interface ScanCheckResult {
  id: 'dependency-scan'
  control: 'CC6.8'
  title: string
  verdict: 'pass' | 'fail' | 'warn'
  detail: string
  evidence: Record<string, unknown>
}

export interface Finding { id: string, package: string, severity: Severity, title: string, fixAvailable: boolean | null }

/** What `gatehouse scan record` writes: one npm-audit run. */
export interface ScanRecord {
  kind: 'gatehouse-scan'
  version: 1
  scanner: string
  target: string
  scannedAt: string
  counts: SeverityCounts
  findings: Finding[]
}

export interface ScanSummary {
  file: string
  scanner: string
  target: string
  scannedAt: string
  counts: SeverityCounts
  /** high and critical findings (the ones that fail the check) */
  blocking: Finding[]
}

export interface SbomFacts { file: string, sha256: string, format: string | null, components: number }

export interface ScanFacts {
  dir: string
  scans: ScanSummary[]
  /** files in the folder that are neither a scan record nor a Trivy report */
  unreadable: Array<{ file: string, error: string }>
  sbom: SbomFacts | null
}

const zero = (): SeverityCounts => ({ critical: 0, high: 0, moderate: 0, low: 0, info: 0 })
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback)

function severityOf (v: unknown): Severity {
  const s = str(v).toLowerCase()
  if (s === 'medium') return 'moderate'
  if (s === 'unknown' || s === 'negligible' || s === 'none') return 'info'
  return (SEVERITIES as readonly string[]).includes(s) ? s as Severity : 'info'
}

/**
 * `npm audit --json` output (report version 2) as a scan record. npm prints an `error` object
 * instead of a report when the registry cannot be asked: that is refused, never recorded as clean.
 */
export function recordFromNpmAudit (report: unknown, now: number, target = 'gatehouse npm production dependencies'): ScanRecord {
  if (!isObject(report)) throw new errors.USAGE('scan record: the input is not an npm audit JSON report')
  if (isObject(report.error)) {
    const why = str(report.message) || str(report.error.summary) || str(report.error.code, 'unknown error')
    throw new errors.USAGE(`scan record: npm audit failed (${why.split('\n')[0] ?? ''}); nothing recorded`)
  }
  const vulns = report.vulnerabilities
  const meta = isObject(report.metadata) ? report.metadata.vulnerabilities : undefined
  if (!isObject(vulns) || !isObject(meta)) {
    throw new errors.USAGE('scan record: not an npm audit report (no vulnerabilities/metadata; npm 7 or newer writes them)')
  }
  const counts = zero()
  for (const s of SEVERITIES) counts[s] = typeof meta[s] === 'number' ? meta[s] : 0
  const findings: Finding[] = []
  for (const [name, v] of Object.entries(vulns)) {
    if (!isObject(v)) continue
    // `via` names the advisories (objects) or the vulnerable dependency it comes through (strings)
    const advisories = Array.isArray(v.via) ? v.via.filter(isObject) : []
    const ids = advisories
      .map((a) => str(a.url).split('/').pop() || (a.source === undefined ? '' : String(a.source)))
      .filter((x) => x !== '')
    findings.push({
      id: ids[0] ?? `via:${(Array.isArray(v.via) ? v.via.filter((x) => typeof x === 'string') : []).join(',')}`,
      package: str(v.name, name),
      severity: severityOf(v.severity),
      title: str(advisories[0]?.title, advisories.length === 0 ? 'through a vulnerable dependency' : ''),
      fixAvailable: v.fixAvailable === false ? false : v.fixAvailable === undefined ? null : true
    })
  }
  findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.package.localeCompare(b.package))
  return { kind: 'gatehouse-scan', version: 1, scanner: 'npm-audit', target, scannedAt: new Date(now).toISOString(), counts, findings }
}

const blocking = (f: Finding[]) => f.filter((x) => x.severity === 'critical' || x.severity === 'high')

/**
 * A scan file as a summary: a Gatehouse scan record, or a Trivy JSON report (`trivy image
 * --format json`; its CreatedAt, else `fileTime`, is the scan time). Null for anything else.
 */
export function summarizeScan (file: string, doc: unknown, fileTime: number): ScanSummary | null {
  if (!isObject(doc)) return null
  if (doc.kind === 'gatehouse-scan' && isObject(doc.counts) && Array.isArray(doc.findings)) {
    const counts = zero()
    for (const s of SEVERITIES) counts[s] = typeof doc.counts[s] === 'number' ? doc.counts[s] : 0
    const findings = doc.findings.filter(isObject).map((f) => ({
      id: str(f.id), package: str(f.package), severity: severityOf(f.severity), title: str(f.title),
      fixAvailable: typeof f.fixAvailable === 'boolean' ? f.fixAvailable : null
    }))
    const at = Date.parse(str(doc.scannedAt))
    if (Number.isNaN(at)) return null
    // the counts may say more than the listed findings; the higher of the two stands
    counts.critical = Math.max(counts.critical, findings.filter((f) => f.severity === 'critical').length)
    counts.high = Math.max(counts.high, findings.filter((f) => f.severity === 'high').length)
    const listed = blocking(findings)
    const unlisted = counts.critical + counts.high - listed.length
    return {
      file, scanner: str(doc.scanner, 'unknown'), target: str(doc.target, file), scannedAt: new Date(at).toISOString(), counts,
      blocking: unlisted > 0
        ? [...listed, { id: `${unlisted} more`, package: '-', severity: 'high', title: 'counted but not listed', fixAvailable: null }]
        : listed
    }
  }
  if (typeof doc.SchemaVersion === 'number' && typeof doc.ArtifactName === 'string' &&
    (doc.Results === undefined || Array.isArray(doc.Results))) {
    const counts = zero()
    const findings: Finding[] = []
    for (const r of (doc.Results as unknown[] | undefined) ?? []) {
      if (!isObject(r) || !Array.isArray(r.Vulnerabilities)) continue
      for (const v of r.Vulnerabilities.filter(isObject)) {
        const f: Finding = {
          id: str(v.VulnerabilityID), package: `${str(v.PkgName)}@${str(v.InstalledVersion)}`, severity: severityOf(v.Severity),
          title: str(v.Title), fixAvailable: str(v.FixedVersion) !== ''
        }
        counts[f.severity]++
        findings.push(f)
      }
    }
    const created = Date.parse(str(doc.CreatedAt))
    return {
      file, scanner: 'trivy', target: doc.ArtifactName, scannedAt: new Date(Number.isNaN(created) ? fileTime : created).toISOString(),
      counts, blocking: blocking(findings)
    }
  }
  return null
}

/** The newest scan of each target. */
export function latestPerTarget (scans: ScanSummary[]): ScanSummary[] {
  const latest = new Map<string, ScanSummary>()
  for (const s of scans) {
    const prev = latest.get(s.target)
    if (!prev || s.scannedAt > prev.scannedAt) latest.set(s.target, s)
  }
  return [...latest.values()].sort((a, b) => a.target.localeCompare(b.target))
}

/** `dependency-scan` (CC6.8): a scan of every target within 7 days, none with an open high or critical finding. */
export function dependencyScanCheck (facts: ScanFacts | undefined, now: number): ScanCheckResult {
  const title = `Dependencies and images were scanned within ${SCAN_MAX_AGE_DAYS} days with no open high or critical finding`
  const base = { id: 'dependency-scan' as const, control: 'CC6.8' as const, title }
  if (!facts || facts.scans.length === 0) {
    return {
      ...base, verdict: 'fail',
      detail: `no scan recorded in ${facts?.dir ?? 'compliance.scanDir'}: run \`npm run audit:deps\` or the scan CronJob`,
      evidence: { scanDir: facts?.dir ?? null, targets: [], unreadable: facts?.unreadable ?? [], sbom: facts?.sbom ?? null }
    }
  }
  const latest = latestPerTarget(facts.scans)
  const age = (s: ScanSummary) => Math.floor((now - Date.parse(s.scannedAt)) / DAY)
  const stale = latest.filter((s) => now - Date.parse(s.scannedAt) > SCAN_MAX_AGE_DAYS * DAY)
  const open = latest.filter((s) => s.counts.critical + s.counts.high > 0)
  const problems = [
    ...stale.map((s) => `${s.target}: last scanned ${s.scannedAt} (${age(s)} days ago)`),
    ...open.map((s) => {
      const shown = s.blocking.slice(0, 5).map((f) => `${f.package} ${f.id}`).join(', ')
      return `${s.target}: ${s.counts.critical} critical, ${s.counts.high} high (${shown}${s.blocking.length > 5 ? ', …' : ''})`
    })
  ]
  const verdict = problems.length > 0 ? 'fail' : facts.unreadable.length > 0 ? 'warn' : 'pass'
  return {
    ...base, verdict,
    detail: problems.length > 0 ? problems.join('; ')
      : facts.unreadable.length > 0 ? `files in the scan folder that are not scans: ${facts.unreadable.map((u) => u.file).join(', ')}`
        : `${latest.length} target(s) scanned within ${SCAN_MAX_AGE_DAYS} days, no high or critical finding`,
    evidence: {
      scanDir: facts.dir,
      targets: latest.map((s) => ({
        target: s.target, scanner: s.scanner, file: s.file, scannedAt: s.scannedAt, ageDays: age(s), counts: s.counts,
        blocking: s.blocking.slice(0, LISTED)
      })),
      unreadable: facts.unreadable,
      sbom: facts.sbom
    }
  }
}
