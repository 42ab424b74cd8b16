// Builds the ECS event from typed input (pure). Only known fields are read, and each is bounded to
// its meaning: an input object carrying anything else (a password, a prompt) contributes nothing.
import { normalizeIp } from '../config/cidr.js'
import { ACTIONS, isAuditAction } from './actions.js'
import type { AuditEvent, AuditInput, Unchained } from './types.js'

export const ECS_VERSION = '8.17.0'

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/
const ENTITY = /^[a-z][a-z0-9_]{0,31}$/
const CONFIG_HASH = /^[A-Za-z0-9:+/=_-]{1,128}$/

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

function maskedCounts (m: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (m === null || typeof m !== 'object') return out
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    const c = count(v)
    if (ENTITY.test(k) && c !== null) out[k] = c
  }
  return out
}

export interface BuildContext {
  /** milliseconds since the epoch */
  time: number
  replica: string
  hostName?: string
}

/** The event without its chain link; the chain's `link` adds that. Throws only on an unknown action (a bug). */
export function buildEvent (input: AuditInput, ctx: BuildContext): Unchained {
  if (!isAuditAction(input.action)) throw new TypeError('unknown audit action')
  const info = ACTIONS[input.action]
  const outcome = input.outcome === 'success' ? 'success' : 'failure'
  const req = input.request
  const reason = token(req?.reason ?? input.reason)

  const ev: Omit<Unchained, 'gatehouse'> = {
    '@timestamp': new Date(ctx.time).toISOString(),
    ecs: { version: ECS_VERSION },
    event: { kind: 'event', category: [...info.category], type: [...info.type], action: input.action, outcome },
    service: { name: 'gatehouse', node: { name: ctx.replica } }
  }
  // built apart and added last, so gatehouse.chain ends every line
  const gh: Unchained['gatehouse'] = {}
  if (req) ev.event.duration = count(req.durationNs) ?? 0
  if (reason !== undefined) ev.event.reason = reason
  const host = bounded(ctx.hostName, 255)
  if (host) ev.host = { name: host }
  const ip = typeof input.sourceIp === 'string' ? normalizeIp(input.sourceIp) : null
  if (ip) ev.source = { ip }

  const user: NonNullable<AuditEvent['user']> = {}
  const userName = bounded(input.userName, 256)
  if (userName !== undefined) user.name = userName
  const t = input.target
  const keyTarget = t !== undefined && (t.keyId !== undefined || t.keyName !== undefined)
  if (t && (t.userName !== undefined || (!keyTarget && t.role !== undefined))) {
    user.target = {}
    const tn = bounded(t.userName, 256)
    if (tn !== undefined) user.target.name = tn
    const role = bounded(t.role, 64)
    if (!keyTarget && role !== undefined) user.target.roles = [role]
  }
  if (Object.keys(user).length > 0) ev.user = user

  const requestId = bounded(input.requestId, 128)
  if (req || requestId !== undefined) {
    ev.http = { request: {} }
    if (requestId !== undefined) ev.http.request.id = requestId
    if (req) {
      ev.http.request.method = bounded(String(req.method).toUpperCase(), 16) ?? 'OTHER'
      const status = count(req.status)
      ev.http.response = { status_code: status !== null && status >= 100 && status <= 599 ? status : 0 }
    }
  }
  if (req) {
    // the query string can carry credentials; url.path is the path only
    ev.url = { path: bounded(String(req.path).split('?')[0], 2048) ?? '' }
    ev.gen_ai = {
      request: { model: bounded(req.model, 256) ?? null },
      usage: { input_tokens: count(req.inputTokens), output_tokens: count(req.outputTokens) }
    }
    gh.decision = req.decision === 'allow' ? 'allow' : 'deny'
    gh.reason = reason ?? null
    gh.credential = req.credential === 'session' || req.credential === 'api_key' ? req.credential : null
    gh.masked = maskedCounts(req.masked)
  } else if (reason !== undefined) {
    gh.reason = reason
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
  if (input.config && typeof input.config.hash === 'string') {
    gh.config = { hash: CONFIG_HASH.test(input.config.hash) ? input.config.hash : 'invalid' }
  }
  if (input.sink) {
    const s = input.sink
    const sink: NonNullable<AuditEvent['gatehouse']['sink']> = {
      type: s.type === 'file' || s.type === 'stdout' || s.type === 'syslog' ? s.type : 'other'
    }
    const dropped = count(s.dropped)
    if (dropped !== null) sink.dropped = dropped
    const error = token(s.error)
    if (error !== undefined) sink.error = error
    gh.sink = sink
  }
  return { ...ev, gatehouse: gh }
}
