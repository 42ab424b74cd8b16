// What the auth module needs from the rest of Gatehouse, narrowed to what it uses, so tests can
// hand it small fakes and the real implementations (src/cluster-state, src/audit) satisfy it as is.
import type { Clock } from '../clock.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { Store } from '../store/types.js'
import type { AuditInput } from '../audit/types.js'
import type { PasswordHasher } from './passwords.js'
import type { SecretBox } from './totp.js'
import type { TokenService } from './tokens.js'

/** Counters and revocations shared by every replica (memory, store-backed or Redis). */
export interface AuthSharedState {
  hit: (key: string, windowMs: number, now: number) => Promise<{ count: number, resetAt: number }>
  revoke: (id: string, untilMs: number) => Promise<void>
  isRevoked: (id: string, now: number) => Promise<boolean>
}

/** The audit input of src/audit. Never carries passwords, codes, secrets, tokens or keys. */
export type AuthAuditInput = AuditInput

export type AuthAudit = (input: AuthAuditInput) => void

/** Who asked for something: a request (ip, id, acting user) or the CLI (nothing). */
export interface Actor { sourceIp?: string, requestId?: string, userName?: string }

export interface AuthDeps {
  store: Store
  sharedState: AuthSharedState
  tokens: TokenService
  passwords: PasswordHasher
  secretBox: SecretBox
  clock: Clock
  audit: AuthAudit
  config: Pick<GatehouseConfig, 'auth' | 'rbac'>
}
