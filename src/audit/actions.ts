// event.category / event.type per action (ECS categorization fields), and the syslog severity.
import type { AuditAction } from './types.js'

interface ActionInfo { category: readonly string[], type: readonly string[] }

export const ACTIONS: Readonly<Record<AuditAction, ActionInfo>> = Object.freeze({
  login: { category: ['authentication'], type: ['start'] },
  'mfa-verify': { category: ['authentication'], type: ['start'] },
  'mfa-enroll': { category: ['authentication', 'iam'], type: ['user', 'change'] },
  logout: { category: ['authentication'], type: ['end'] },
  'account-locked': { category: ['authentication', 'iam'], type: ['user', 'change'] },
  'account-unlocked': { category: ['iam'], type: ['user', 'change'] },
  'token-rejected': { category: ['authentication'], type: ['info'] },
  'totp-replay': { category: ['authentication', 'intrusion_detection'], type: ['info', 'denied'] },
  'access-denied': { category: ['web'], type: ['access', 'denied'] },
  'model-request': { category: ['web'], type: ['access'] },
  'user-created': { category: ['iam'], type: ['user', 'creation'] },
  'user-disabled': { category: ['iam'], type: ['user', 'change'] },
  'user-enabled': { category: ['iam'], type: ['user', 'change'] },
  'role-changed': { category: ['iam'], type: ['user', 'change'] },
  'mfa-reset': { category: ['iam'], type: ['user', 'change'] },
  'password-changed': { category: ['iam'], type: ['user', 'change'] },
  'key-created': { category: ['iam'], type: ['creation'] },
  'key-revoked': { category: ['iam'], type: ['deletion'] },
  'key-rotated': { category: ['iam'], type: ['creation', 'change'] },
  'config-loaded': { category: ['configuration'], type: ['change'] },
  'audit-sink-error': { category: ['process'], type: ['error'] },
  'intrusion-detected': { category: ['intrusion_detection'], type: ['indicator'] },
  'audit-retention': { category: ['database'], type: ['deletion'] },
  'user-deleted': { category: ['iam'], type: ['user', 'deletion'] }
})

/** Actions whose events are ECS alerts (`event.kind: "alert"`), not plain events. */
export const ALERT_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>(['intrusion-detected'])

export const AUDIT_ACTIONS = Object.freeze(Object.keys(ACTIONS) as AuditAction[])

export function isAuditAction (a: unknown): a is AuditAction {
  return typeof a === 'string' && Object.prototype.hasOwnProperty.call(ACTIONS, a)
}

/** RFC 5424 severity: 3 error, 4 warning, 5 notice, 6 informational. */
export function severityOf (action: AuditAction, outcome: 'success' | 'failure'): number {
  if (action === 'audit-sink-error') return 3
  if (action === 'account-locked' || action === 'totp-replay' || action === 'intrusion-detected') return 4
  return outcome === 'failure' ? 5 : 6
}
