// The one error handler: every error becomes a status and a body in the route's shape
// (`{"error":"…"}` natively, OpenAI's object on /v1/*). Internal errors never leak details.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, type ErrorFamily } from '../proxy/error-shape.js'
import { isGatehouseError } from '../errors.js'

export const familyOfPath = (url: string): ErrorFamily => (url.startsWith('/v1/') || url === '/v1' ? 'openai' : 'native')

const FASTIFY_CLIENT_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid content length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'request body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'request body is not valid JSON'],
  FST_ERR_BAD_URL: [400, 'bad request'],
  FST_ERR_VALIDATION: [400, 'invalid request']
}

export function sendError (request: FastifyRequest, reply: FastifyReply, status: number, message: string, code: string | null): FastifyReply {
  if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer')
  if (request.gh) request.gh.reason ??= code
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(familyOfPath(request.url), status, message, code))
}

export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isGatehouseError(err)) return sendError(request, reply, err.statusCode, err.message, err.code)
  const known = err.code ? FASTIFY_CLIENT_ERRORS[err.code] : undefined
  if (known) return sendError(request, reply, known[0], known[1], err.code)
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return sendError(request, reply, err.statusCode, 'bad request', err.code ?? null)
  }
  request.log.error({ err }, 'unhandled error')
  return sendError(request, reply, 500, 'internal error', 'GH_ERR_INTERNAL')
}
