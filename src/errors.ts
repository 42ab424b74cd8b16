// Every error Gatehouse raises on purpose, in one place. Tests assert on `code`, never on message text.
// The message is what the client sees, so none of them may echo credentials or request content.
import createError from '@fastify/error'

/** The base of every error in this file: recognised with `instanceof`, always with a code and a status. */
export class GatehouseError extends Error {
  declare readonly code: string
  declare readonly statusCode: number
}

// createError's typing wants an ErrorConstructor; GatehouseError is one at run time
const define = <C extends string, SC extends number>(code: C, message: string, status: SC) =>
  createError(code, message, status, GatehouseError as unknown as ErrorConstructor)

export const errors = {
  // request shape
  ROUTE_NOT_FOUND: define('GH_ERR_ROUTE_NOT_FOUND', 'not found', 404),
  METHOD_NOT_ALLOWED: define('GH_ERR_METHOD_NOT_ALLOWED', 'method not allowed', 405),
  BAD_REQUEST: define('GH_ERR_BAD_REQUEST', '%s', 400),
  INVALID_JSON: define('GH_ERR_INVALID_JSON', 'request body is not valid JSON', 400),
  BODY_NOT_OBJECT: define('GH_ERR_BODY_NOT_OBJECT', 'request body must be a JSON object', 400),
  INVALID_MODEL: define('GH_ERR_INVALID_MODEL', '%s', 400),
  BODY_TOO_LARGE: define('GH_ERR_BODY_TOO_LARGE', 'request body is too large', 413),
  UNSUPPORTED_MEDIA_TYPE: define('GH_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported content type', 415),
  BODY_TIMEOUT: define('GH_ERR_BODY_TIMEOUT', 'request body timed out', 408),

  // authentication
  AUTH_REQUIRED: define('GH_ERR_AUTH_REQUIRED', 'authentication required', 401),
  INVALID_TOKEN: define('GH_ERR_INVALID_TOKEN', 'invalid or expired credentials', 401),
  INVALID_LOGIN: define('GH_ERR_INVALID_LOGIN', 'invalid username or password', 401),
  INVALID_CODE: define('GH_ERR_INVALID_CODE', 'invalid code', 401),
  LOGIN_THROTTLED: define('GH_ERR_LOGIN_THROTTLED', 'too many failed attempts from this address', 429),
  UNAUTHENTICATED_THROTTLED: define('GH_ERR_UNAUTHENTICATED_THROTTLED',
    'too many requests without valid credentials from this address', 429),
  WEAK_PASSWORD: define('GH_ERR_WEAK_PASSWORD', '%s', 400),
  /** single sign-on: the callback was refused (state, code, ID token, account); the reason is in the audit event */
  SSO_REFUSED: define('GH_ERR_SSO_REFUSED', 'single sign-on failed; start again from the sign-in page', 401),
  SSO_NO_ROLE: define('GH_ERR_SSO_NO_ROLE', 'no role for this account', 403),
  SSO_IDP_UNAVAILABLE: define('GH_ERR_SSO_IDP_UNAVAILABLE', 'the identity provider cannot be reached; try again later', 502),

  // authorization
  // the permission's name (from the route table, never the caller's roles)
  FORBIDDEN: define('GH_ERR_FORBIDDEN', 'permission "%s" required', 403),
  API_KEY_NOT_ALLOWED: define('GH_ERR_API_KEY_NOT_ALLOWED', 'API keys cannot use %s; sign in', 403),
  MFA_REQUIRED: define('GH_ERR_MFA_REQUIRED', '%s needs a session signed in with a one-time code', 403),
  PASSWORD_CHANGE_REQUIRED: define('GH_ERR_PASSWORD_CHANGE_REQUIRED', 'password change required', 403),
  REAUTH_FAILED: define('GH_ERR_REAUTH_FAILED', 'current password or code is wrong', 403),
  CROSS_SITE: define('GH_ERR_CROSS_SITE', 'cross-site request refused', 403),
  // the model the caller named, in canonical form; the role's list stays out of the answer
  MODEL_FORBIDDEN: define('GH_ERR_MODEL_FORBIDDEN', 'model "%s" is not allowed for your role', 403),
  NOT_FOUND: define('GH_ERR_NOT_FOUND', '%s not found', 404),
  CONFLICT: define('GH_ERR_CONFLICT', '%s', 409),

  // limits
  RATE_LIMITED: define('GH_ERR_RATE_LIMITED', 'rate limit exceeded', 429),
  TOO_MANY_STREAMS: define('GH_ERR_TOO_MANY_STREAMS', 'too many concurrent streams', 429),
  QUOTA_EXCEEDED: define('GH_ERR_QUOTA_EXCEEDED', '%s', 429),
  QUOTA_UNAVAILABLE: define('GH_ERR_QUOTA_UNAVAILABLE', 'token quotas cannot be checked; request refused', 503),
  OVERLOADED: define('GH_ERR_OVERLOADED', 'the gateway is overloaded; retry shortly', 503),
  SOURCE_BODY_BYTES: define('GH_ERR_SOURCE_BODY_BYTES', 'too many request bytes in flight from this address', 429),

  // upstream and dependencies
  UPSTREAM_UNAVAILABLE: define('GH_ERR_UPSTREAM_UNAVAILABLE', 'upstream Ollama is unavailable', 502),
  UPSTREAM_TIMEOUT: define('GH_ERR_UPSTREAM_TIMEOUT', 'upstream Ollama timed out', 504),
  UPSTREAM_BAD_REPLY: define('GH_ERR_UPSTREAM_BAD_REPLY', 'upstream reply could not be processed', 502),
  UPSTREAM_TOO_LARGE: define('GH_ERR_UPSTREAM_TOO_LARGE', 'upstream reply is too large', 502),
  FRAME_TOO_LARGE: define('GH_ERR_FRAME_TOO_LARGE', 'upstream frame longer than %d bytes', 502),
  MODEL_NOT_ON_ANY_HOST: define('GH_ERR_MODEL_NOT_ON_ANY_HOST', 'model "%s" is not available on any host', 404),
  UPSTREAMS_BUSY: define('GH_ERR_UPSTREAMS_BUSY', 'all hosts serving %s are busy', 503),
  UNKNOWN_UPSTREAM: define('GH_ERR_UNKNOWN_UPSTREAM', 'unknown upstream "%s" in X-Gatehouse-Upstream; configured hosts: %s', 400),
  FAN_OUT_FAILED: define('GH_ERR_FAN_OUT_FAILED', '%s', 502),
  AUDIT_UNAVAILABLE: define('GH_ERR_AUDIT_UNAVAILABLE', 'audit log unavailable; request refused', 503),
  STORE_UNAVAILABLE: define('GH_ERR_STORE_UNAVAILABLE', 'store unavailable; request refused', 503),
  SHARED_STATE_UNAVAILABLE: define('GH_ERR_SHARED_STATE_UNAVAILABLE', 'shared state unavailable; request refused', 503),

  // anything not raised on purpose: the details stay in the log
  INTERNAL: define('GH_ERR_INTERNAL', 'internal error', 500),

  // configuration and CLI (not HTTP)
  CONFIG_INVALID: define('GH_ERR_CONFIG_INVALID', 'invalid configuration:\n%s', 500),
  USAGE: define('GH_ERR_USAGE', '%s', 500),
  STORE: define('GH_ERR_STORE', '%s', 500),
  MASKING_UNKNOWN_ENTITY: define('GH_ERR_MASKING_UNKNOWN_ENTITY', 'unknown masking entity: %s', 500),
  PATH_ACCESS: define('GH_ERR_PATH_ACCESS', '%s', 500)
} as const

/** True when `err` is one of ours, so it carries its own status and code for the client. */
export const isGatehouseError = (err: unknown): err is GatehouseError => err instanceof GatehouseError

/** An invalid configuration: every problem, each prefixed with its key path, reported at once. */
export class ConfigError extends errors.CONFIG_INVALID {
  constructor (readonly problems: string[]) {
    super(`  ${problems.join('\n  ')}`)
  }
}

/** An upstream line or event longer than the framer's bound. */
export class FrameTooLargeError extends errors.FRAME_TOO_LARGE {
  constructor (readonly limit: number) {
    super(limit)
  }
}

/** A reply frame the gateway cannot read (`detail` is for logs and audit): refused, never passed through. */
export class BadReply extends errors.UPSTREAM_BAD_REPLY {
  constructor (readonly detail: string) {
    super()
  }
}
