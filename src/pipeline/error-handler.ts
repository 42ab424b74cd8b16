// The one error handler: every error becomes a status and a body in the route's shape
// (`{"error":"…"}` natively, OpenAI's object on /v1/*). Internal errors never leak details.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, familyOfPath } from '../ollama/error-shape.js'
import { errors, isGatehouseError } from '../errors.js'

// Fastify's own client errors, as the project's errors (one message and code for each)
const FASTIFY_CLIENT_ERRORS: Record<string, () => Error & { statusCode: number, code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new errors.BODY_TOO_LARGE(),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new errors.UNSUPPORTED_MEDIA_TYPE(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new errors.BAD_REQUEST('invalid content length'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new errors.BAD_REQUEST('request body is empty'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new errors.INVALID_JSON(),
  FST_ERR_BAD_URL: () => new errors.BAD_REQUEST('bad request'),
  FST_ERR_VALIDATION: () => new errors.BAD_REQUEST('invalid request')
}

export function sendError (request: FastifyRequest, reply: FastifyReply, status: number, message: string,
  code: string | null): FastifyReply {
  if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer')
  if (request.gh) request.gh.reason ??= code
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(familyOfPath(request.url), status, message, code))
}

export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isGatehouseError(err)) return sendError(request, reply, err.statusCode, err.message, err.code)
  const mapped = err.code ? FASTIFY_CLIENT_ERRORS[err.code]?.() : undefined
  if (mapped) return sendError(request, reply, mapped.statusCode, mapped.message, mapped.code)
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return sendError(request, reply, err.statusCode, 'bad request', err.code ?? null)
  }
  request.log.error({ err }, 'unhandled error')
  const internal = new errors.INTERNAL()
  return sendError(request, reply, internal.statusCode, internal.message, internal.code)
}
