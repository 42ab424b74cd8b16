// The audit trail's public surface: one emitter, its sinks, and the verifier.
export type { AuditAction, AuditInput, AuditEvent, AuditRequestInput, ChainLink } from './types.js'
export { AUDIT_ACTIONS, ACTIONS } from './actions.js'
export { createAuditLog, type AuditLog, type AuditLogDeps } from './audit-log.js'
export { verifyAuditFiles, type VerifyResult, type VerifyCode } from './verify.js'
export { createRefusalAggregator, type RefusalAggregator } from './refusal-aggregator.js'
export { applyAuditRetention, type RetentionResult, type RetentionAnchor } from './retention.js'
