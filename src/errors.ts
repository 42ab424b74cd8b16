// Every error Gatehouse raises on purpose, in one place. Tests assert on `code`, never on message text.
// The message is what the client sees, so none of them may echo credentials or request content.
import createError from '@fastify/error'

export const errors = {
  // request shape
  ROUTE_NOT_FOUND: createError('GH_ERR_ROUTE_NOT_FOUND', 'not found', 404),
  METHOD_NOT_ALLOWED: createError('GH_ERR_METHOD_NOT_ALLOWED', 'method not allowed', 405),
  BAD_REQUEST: createError('GH_ERR_BAD_REQUEST', '%s', 400),
  INVALID_JSON: createError('GH_ERR_INVALID_JSON', 'request body is not valid JSON', 400),
  BODY_NOT_OBJECT: createError('GH_ERR_BODY_NOT_OBJECT', 'request body must be a JSON object', 400),
  INVALID_MODEL: createError('GH_ERR_INVALID_MODEL', '%s', 400),
  BODY_TOO_LARGE: createError('GH_ERR_BODY_TOO_LARGE', 'request body is too large', 413),
  UNSUPPORTED_MEDIA_TYPE: createError('GH_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported content type', 415),
  BODY_TIMEOUT: createError('GH_ERR_BODY_TIMEOUT', 'request body timed out', 408),

  // authentication
  AUTH_REQUIRED: createError('GH_ERR_AUTH_REQUIRED', 'authentication required', 401),
  INVALID_TOKEN: createError('GH_ERR_INVALID_TOKEN', 'invalid or expired credentials', 401),
  INVALID_LOGIN: createError('GH_ERR_INVALID_LOGIN', 'invalid username or password', 401),
  INVALID_CODE: createError('GH_ERR_INVALID_CODE', 'invalid code', 401),
  LOGIN_THROTTLED: createError('GH_ERR_LOGIN_THROTTLED', 'too many failed attempts from this address', 429),
  WEAK_PASSWORD: createError('GH_ERR_WEAK_PASSWORD', '%s', 400),

  // authorization
  FORBIDDEN: createError('GH_ERR_FORBIDDEN', 'forbidden', 403),
  CROSS_SITE: createError('GH_ERR_CROSS_SITE', 'cross-site request refused', 403),
  MODEL_FORBIDDEN: createError('GH_ERR_MODEL_FORBIDDEN', 'model not allowed for this role', 403),
  NOT_FOUND: createError('GH_ERR_NOT_FOUND', '%s not found', 404),
  CONFLICT: createError('GH_ERR_CONFLICT', '%s', 409),

  // limits
  RATE_LIMITED: createError('GH_ERR_RATE_LIMITED', 'rate limit exceeded', 429),
  TOO_MANY_STREAMS: createError('GH_ERR_TOO_MANY_STREAMS', 'too many concurrent streams', 429),
  SOURCE_BODY_BYTES: createError('GH_ERR_SOURCE_BODY_BYTES', 'too many request bytes in flight from this address', 429),

  // upstream and dependencies
  UPSTREAM_UNAVAILABLE: createError('GH_ERR_UPSTREAM_UNAVAILABLE', 'upstream Ollama is unavailable', 502),
  UPSTREAM_TIMEOUT: createError('GH_ERR_UPSTREAM_TIMEOUT', 'upstream Ollama timed out', 504),
  UPSTREAM_BAD_REPLY: createError('GH_ERR_UPSTREAM_BAD_REPLY', 'upstream reply could not be processed', 502),
  AUDIT_UNAVAILABLE: createError('GH_ERR_AUDIT_UNAVAILABLE', 'audit log unavailable; request refused', 503),

  // configuration and CLI (not HTTP)
  CONFIG_INVALID: createError('GH_ERR_CONFIG_INVALID', 'invalid configuration:\n%s', 500),
  USAGE: createError('GH_ERR_USAGE', '%s', 500),
  STORE: createError('GH_ERR_STORE', '%s', 500)
} as const

export type GatehouseErrorCode = ReturnType<(typeof errors)[keyof typeof errors]>['code']

/** True when `err` is one of ours with an HTTP status meant for clients. */
export function isGatehouseError (err: unknown): err is Error & { code: string, statusCode: number } {
  const code = (err as { code?: unknown } | null)?.code
  return err instanceof Error && typeof code === 'string' && code.startsWith('GH_ERR_')
}
