// Statistics over audit files for the evidence bundle and the config-hash check: events per action
// and outcome in a period, and the configuration hashes that config-loaded events recorded.
// Integrity is the verifier's job (audit/verify.ts); lines that do not parse are only counted here.
import { createReadStream, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { rotatedSiblings } from '../audit/files.js'

export interface AuditStatistics {
  files: string[]
  /** events with @timestamp in [from, to) */
  events: number
  byAction: Record<string, { success: number, failure: number }>
  /** intrusion-detection alerts (event.kind = alert) in the period, by rule (event.reason) */
  detections: Record<string, number>
  /** requests refused by the gateway (gatehouse.decision = deny) in the period, by reason */
  denials: Record<string, number>
  firstEventAt: string | null
  lastEventAt: string | null
  /** lines that are not JSON events (the chain check says whether that is tampering) */
  unreadable: number
  /** config-loaded hashes over the whole log (not only the period), oldest first */
  configHashes: string[]
  /** the same events with their time and the hash loaded before (null when none was known) */
  configChain: Array<{ at: string, hash: string, previousHash: string | null }>
}

/** The active file and its rotated predecessors, oldest first. */
export function auditFilesOf (path: string): string[] {
  return [...rotatedSiblings(path).reverse(), ...(existsSync(path) ? [path] : [])]
}

interface EventView {
  '@timestamp'?: unknown
  event?: { action?: unknown, outcome?: unknown, kind?: unknown, reason?: unknown }
  gatehouse?: { decision?: unknown, reason?: unknown, config?: { hash?: unknown, previous_hash?: unknown } }
}

export async function readAuditStatistics (files: string[], period: { from: number, to: number }): Promise<AuditStatistics> {
  // null-prototype maps: action and reason names come from the file
  const s: AuditStatistics = { files, events: 0, byAction: Object.create(null) as AuditStatistics['byAction'],
    denials: Object.create(null) as AuditStatistics['denials'], detections: Object.create(null) as AuditStatistics['detections'],
    firstEventAt: null, lastEventAt: null, unreadable: 0, configHashes: [],
    configChain: [] }
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
    for await (const line of lines) {
      if (line === '') continue
      let ev: EventView
      try { ev = JSON.parse(line) as EventView } catch { s.unreadable++; continue }
      const at = typeof ev['@timestamp'] === 'string' ? Date.parse(ev['@timestamp']) : NaN
      const action = ev.event?.action
      if (Number.isNaN(at) || typeof action !== 'string') { s.unreadable++; continue }
      if (action === 'config-loaded' && typeof ev.gatehouse?.config?.hash === 'string') {
        const prev = ev.gatehouse.config.previous_hash
        s.configHashes.push(ev.gatehouse.config.hash)
        s.configChain.push({
          at: new Date(at).toISOString(), hash: ev.gatehouse.config.hash, previousHash: typeof prev === 'string' ? prev : null
        })
      }
      if (at < period.from || at >= period.to) continue
      s.events++
      const bucket = s.byAction[action] ?? { success: 0, failure: 0 }
      s.byAction[action] = bucket
      if (ev.event?.outcome === 'failure') bucket.failure++
      else bucket.success++
      if (ev.event?.kind === 'alert') {
        const rule = typeof ev.event.reason === 'string' ? ev.event.reason : 'unspecified'
        s.detections[rule] = (s.detections[rule] ?? 0) + 1
      }
      if (ev.gatehouse?.decision === 'deny') {
        const reason = typeof ev.gatehouse.reason === 'string' ? ev.gatehouse.reason : 'unspecified'
        s.denials[reason] = (s.denials[reason] ?? 0) + 1
      }
      const t = new Date(at).toISOString()
      if (s.firstEventAt === null || t < s.firstEventAt) s.firstEventAt = t
      if (s.lastEventAt === null || t > s.lastEventAt) s.lastEventAt = t
    }
  }
  return s
}
