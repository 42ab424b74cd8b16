// Builds the ECS event from typed input (pure). Only known fields are read, and each is bounded to
// its meaning: an input object carrying anything else (a password, a prompt) contributes nothing.
import { normalizeIp } from '../config/cidr.js'
import { ACTIONS, ALERT_ACTIONS, isAuditAction } from './actions.js'
import { displaySafeName } from './names.js'
import type { AuditEvent, AuditInput, Unchained } from './types.js'

const ECS_VERSION = '8.17.0'

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/
const ENTITY = /^[a-z][a-z0-9_]{0,31}$/
const CONFIG_HASH = /^[A-Za-z0-9:+/=_-]{1,128}$/
const UPSTREAM = /^[a-z0-9-]{1,32}(,[a-z0-9-]{1,32}){0,63}$/

/** Cuts a user-supplied string to `max` UTF-16 units without splitting a surrogate pair. */
export function bounded (s: unknown, max: number): string | undefined {
  if (typeof s !== 'string') return undefined
  if (s.length <= max) return s
  const code = s.charCodeAt(max - 1)
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max)
}

/** A machine reason or error code; anything else (free text could carry a secret) becomes 'other'. */
function token (s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined
  return TOKEN.test(s) ? s : 'other'
}

function count (n: unknown): number | null {
  if (typeof n === 'bigint') n = Number(n)
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : null
}

/** Entity → count, keys in sorted order (see buildEvent). */
function maskedCounts (m: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (m === null || typeof m !== 'object') return out
  for (const k of Object.keys(m).sort()) {
    const c = count((m as Record<string, unknown>)[k])
    if (ENTITY.test(k) && c !== null) out[k] = c
  }
  return out
}

/** A repeat count with its first and last time, or null when absent or not a count of at least 1. */
function repeatOf (r: AuditInput['repeat']): { count: number, start: string, end: string } | null {
  if (r === undefined || r === null || typeof r !== 'object') return null
  const n = count(r.count)
  const start = count(r.start)
  const end = count(r.end)
  if (n === null || n < 1 || start === null || end === null) return null
  return { count: n, start: new Date(start).toISOString(), end: new Date(Math.max(start, end)).toISOString() }
}

const FILE_NAME = /^[A-Za-z0-9._-]{1,255}$/
const HEX64 = /^[0-9a-f]{64}$/

/** A well-formed chain point (keys in sorted order), or null. */
type ChainPointOut = { hash: string, replica: string, seq: number }
function chainPointOf (a: { replica: string, seq: number, hash: string } | null | undefined): ChainPointOut | null {
  const seq = a ? count(a.seq) : null
  return a && seq !== null && HEX64.test(a.hash) && TOKEN.test(a.replica) ? { hash: a.hash, replica: a.replica, seq } : null
}

/** File names (no directories) and chain points; anything else is dropped or made 'other'. */
function retentionOf (r: NonNullable<AuditInput['retention']>): NonNullable<AuditEvent['gatehouse']['retention']> {
  const removed = (Array.isArray(r.removed) ? r.removed : []).slice(0, 1000).map((f) => FILE_NAME.test(f) ? f : 'other')
  const anchors: NonNullable<AuditEvent['gatehouse']['retention']>['anchors'] = []
  for (const a of (Array.isArray(r.anchors) ? r.anchors : []).slice(0, 1000)) {
    if (a === null || typeof a !== 'object') continue
    const p = chainPointOf(a)
    const kind = a.kind === 'rotation' || a.kind === 'retention' ? a.kind : null
    if (p !== null && kind !== null) anchors.push({ hash: p.hash, kind, replica: p.replica, seq: p.seq })
  }
  return { anchor: chainPointOf(r.anchor), anchors, removed }
}

export interface BuildContext {
  /** milliseconds since the epoch */
  time: number
  replica: string
  hostName?: string
}

/**
 * The event without its chain link; the chain's `link` adds that. Throws only on an unknown action (a bug).
 * Every object is assembled with its keys in sorted order, so its canonical form (what the chain
 * hashes) is plain JSON.stringify: test/unit/audit/canonical-json.test.ts holds it to that.
 */
export function buildEvent (input: AuditInput, ctx: BuildContext): Unchained {
  if (!isAuditAction(input.action)) throw new TypeError('unknown audit action')
  const info = ACTIONS[input.action]
  const outcome = input.outcome === 'success' ? 'success' : 'failure'
  const req = input.request
  const reason = token(req?.reason ?? input.reason)
  const repeat = repeatOf(input.repeat)

  const event: Unchained['event'] = {
    action: input.action,
    category: [...info.category],
    ...(req ? { duration: count(req.durationNs) ?? 0 } : {}),
    ...(repeat ? { end: repeat.end } : {}),
    kind: ALERT_ACTIONS.has(input.action) ? 'alert' : 'event',
    outcome,
    ...(input.provider === 'oidc' ? { provider: 'oidc' as const } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(repeat ? { start: repeat.start } : {}),
    type: [...info.type]
  }

  const host = bounded(ctx.hostName, 255)
  const ip = typeof input.sourceIp === 'string' ? normalizeIp(input.sourceIp) : null

  const user: NonNullable<AuditEvent['user']> = {}
  let suspicious = false
  // a name that could pass for another on screen is kept, made visible and flagged (see names.ts)
  const safeName = (s: unknown): string | undefined => {
    if (typeof s !== 'string') return undefined
    const d = displaySafeName(s)
    if (d.suspicious) suspicious = true
    return bounded(d.text, 256)
  }
  const userName = safeName(input.userName)
  if (userName !== undefined) user.name = userName
  const t = input.target
  const keyTarget = t !== undefined && (t.keyId !== undefined || t.keyName !== undefined)
  if (t && (t.userName !== undefined || (!keyTarget && t.role !== undefined))) {
    user.target = {}
    const tn = safeName(t.userName)
    if (tn !== undefined) user.target.name = tn
    const role = bounded(t.role, 64)
    if (!keyTarget && role !== undefined) user.target.roles = [role]
  }

  let http: AuditEvent['http']
  const requestId = bounded(input.requestId, 128)
  if (req || requestId !== undefined) {
    http = { request: {} }
    if (requestId !== undefined) http.request.id = requestId
    if (req) {
      http.request.method = bounded(String(req.method).toUpperCase(), 16) ?? 'OTHER'
      const status = count(req.status)
      http.response = { status_code: status !== null && status >= 100 && status <= 599 ? status : 0 }
    }
  }

  // gatehouse.*, in key order (chain, added by the chain, sorts first)
  const gh: Unchained['gatehouse'] = {}
  // host names from the configuration ([a-z0-9-], joined by ","); anything else is not a host name
  const upstream = req !== undefined && typeof req.upstream === 'string' && req.upstream !== ''
    ? (UPSTREAM.test(req.upstream) ? req.upstream : 'other')
    : undefined
  if (upstream !== undefined) gh.attempts = count(req?.attempts) ?? 1
  if (input.config && typeof input.config.hash === 'string') {
    gh.config = { hash: CONFIG_HASH.test(input.config.hash) ? input.config.hash : 'invalid' }
    const prev = input.config.previousHash
    if (prev !== undefined) gh.config.previous_hash = prev === null ? null : CONFIG_HASH.test(prev) ? prev : 'invalid'
  }
  if (req) {
    gh.credential = req.credential === 'session' || req.credential === 'api_key' || req.credential === 'idp_token' ? req.credential : null
    gh.decision = req.decision === 'allow' ? 'allow' : 'deny'
  }
  if (input.detection) {
    gh.detection = { count: count(input.detection.count) ?? 0, window_seconds: count(input.detection.windowSeconds) ?? 0 }
  }
  if (keyTarget) {
    const key: NonNullable<AuditEvent['gatehouse']['key']> = {}
    const id = bounded(t.keyId, 128)
    const name = bounded(t.keyName, 128)
    const role = bounded(t.role, 64)
    if (id !== undefined) key.id = id
    if (name !== undefined) key.name = name
    if (role !== undefined) key.role = role
    gh.key = key
  }
  if (req) gh.masked = maskedCounts(req.masked)
  if (req) gh.reason = reason ?? null
  else if (reason !== undefined) gh.reason = reason
  if (repeat) gh.repeat_count = repeat.count
  if (input.retention) gh.retention = retentionOf(input.retention)
  if (input.sink) {
    const s = input.sink
    const dropped = count(s.dropped)
    const error = token(s.error)
    gh.sink = {
      ...(dropped !== null ? { dropped } : {}),
      ...(error !== undefined ? { error } : {}),
      type: s.type === 'file' || s.type === 'stdout' || s.type === 'syslog' ? s.type : 'other'
    }
  }
  if (suspicious) gh.suspicious_name = true
  if (upstream !== undefined) gh.upstream = upstream

  const ev = { '@timestamp': new Date(ctx.time).toISOString(), ecs: { version: ECS_VERSION }, event, gatehouse: gh } as Unchained
  if (req) {
    ev.gen_ai = {
      request: { model: bounded(req.model, 256) ?? null },
      usage: { input_tokens: count(req.inputTokens), output_tokens: count(req.outputTokens) }
    }
  }
  if (host) ev.host = { name: host }
  if (http) ev.http = http
  ev.service = { name: 'gatehouse', node: { name: ctx.replica } }
  if (ip) ev.source = { ip }
  // the query string can carry credentials; url.path is the path only
  if (req) ev.url = { path: bounded(String(req.path).split('?')[0], 2048) ?? '' }
  if (Object.keys(user).length > 0) ev.user = user
  return ev
}
