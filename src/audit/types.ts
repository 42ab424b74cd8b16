// The typed inputs an audit event is built from, and the event shape it becomes.
// Inputs carry no free-form text: every string field has a bounded, known meaning.

export type AuditAction = 'login' | 'mfa-verify' | 'mfa-enroll' | 'logout' | 'account-locked' | 'account-unlocked' |
  'token-rejected' | 'totp-replay' | 'access-denied' | 'model-request' | 'user-created' | 'user-disabled' |
  'user-enabled' | 'role-changed' | 'mfa-reset' | 'password-changed' | 'key-created' | 'key-revoked' |
  'key-rotated' |
  'config-loaded' | 'audit-sink-error' | 'intrusion-detected' | 'audit-retention' | 'user-deleted'

export interface AuditRequestInput {
  method: string
  path: string
  status: number
  durationNs: bigint | number
  model?: string | null
  inputTokens?: number | null
  outputTokens?: number | null
  decision: 'allow' | 'deny'
  reason?: string | null
  credential?: 'session' | 'api_key' | 'idp_token' | null
  masked?: Record<string, number>
  /** the Ollama host(s) that served the request, once one was chosen */
  upstream?: string | null
  /** hosts tried: 1, or 2 after a failover */
  attempts?: number
}

export interface AuditInput {
  action: AuditAction
  outcome: 'success' | 'failure'
  sourceIp?: string
  userName?: string
  requestId?: string
  request?: AuditRequestInput
  /** the subject of an admin change */
  target?: { userName?: string, role?: string, keyId?: string, keyName?: string }
  /** how a sign-in was vouched for when not by a local password: `oidc` (single sign-on) */
  provider?: 'oidc'
  /** short machine reason: 'bad_password', 'unknown_user', 'locked', 'expired', … */
  reason?: string
  /** config-loaded; previousHash: the configuration loaded before this one (null: none known) */
  config?: { hash: string, previousHash?: string | null }
  /** audit-sink-error */
  sink?: { type: string, dropped?: number, error?: string }
  /**
   * This event stands for `count` identical refusals after the one already written, seen between
   * `start` and `end` (epoch ms): see refusal-aggregator.ts
   */
  repeat?: { count: number, start: number, end: number }
  /** intrusion-detected: what a detection rule counted in its window (`reason` names the rule) */
  detection?: { count: number, windowSeconds: number }
  /**
   * audit-retention: the rotated files removed, the signed rotation checkpoint the remaining files
   * verify from, and every anchor (that one and the retention checkpoints of the other chains)
   */
  retention?: {
    removed: string[]
    anchor: { replica: string, seq: number, hash: string } | null
    anchors?: Array<{ replica: string, seq: number, hash: string, kind: 'rotation' | 'retention' }>
  }
}

export interface ChainLink { replica: string, seq: number, prev: string, hash: string }

/** A built event before the chain links it (what buildEvent returns and chain.link takes). */
export type Unchained = Omit<AuditEvent, 'gatehouse'> & { gatehouse: Omit<AuditEvent['gatehouse'], 'chain'> }

/** A built event. Nested ECS objects; optional parts are absent, not null, unless typed nullable below. */
export interface AuditEvent {
  '@timestamp': string
  ecs: { version: string }
  event: {
    kind: 'event' | 'alert'
    category: string[]
    type: string[]
    action: AuditAction
    outcome: 'success' | 'failure'
    duration?: number
    end?: string
    provider?: 'oidc'
    reason?: string
    start?: string
  }
  service: { name: 'gatehouse', node: { name: string } }
  host?: { name: string }
  source?: { ip: string }
  user?: { name?: string, target?: { name?: string, roles?: string[] } }
  http?: { request: { id?: string, method?: string }, response?: { status_code: number } }
  url?: { path: string }
  gen_ai?: { request: { model: string | null }, usage: { input_tokens: number | null, output_tokens: number | null } }
  gatehouse: {
    attempts?: number
    decision?: 'allow' | 'deny'
    detection?: { count: number, window_seconds: number }
    reason?: string | null
    credential?: 'session' | 'api_key' | 'idp_token' | null
    masked?: Record<string, number>
    key?: { id?: string, name?: string, role?: string }
    config?: { hash: string, previous_hash?: string | null }
    repeat_count?: number
    retention?: {
      anchor: { hash: string, replica: string, seq: number } | null
      anchors: Array<{ hash: string, kind: 'rotation' | 'retention', replica: string, seq: number }>
      removed: string[]
    }
    sink?: { type: string, dropped?: number, error?: string }
    suspicious_name?: true
    upstream?: string
    chain: ChainLink
  }
}
