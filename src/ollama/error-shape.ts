// The two error shapes clients understand: Ollama's `{"error":"…"}` on native routes and OpenAI's
// `{"error":{"message","type","code"}}` on /v1/*. Also the in-stream error lines that end a stream
// that cannot continue, so a client never sees a silent truncation.
export type ErrorFamily = 'native' | 'openai'

/** The error shape a path's clients read: OpenAI's under /v1, Ollama's everywhere else. */
export const familyOfPath = (path: string): ErrorFamily => (path.startsWith('/v1/') || path === '/v1' ? 'openai' : 'native')

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
  404: 'not_found_error', 405: 'invalid_request_error', 413: 'invalid_request_error',
  429: 'rate_limit_error', 502: 'api_error', 503: 'api_error', 504: 'timeout'
}

export function errorBody (family: ErrorFamily, status: number, message: string, code: string | null = null): Record<string, unknown> {
  if (family === 'native') return { error: message }
  return { error: { message, type: OPENAI_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), code } }
}

/** One NDJSON line or one SSE event carrying an error, ending a stream that cannot continue. */
export function streamErrorChunk (framing: 'ndjson' | 'sse', message: string, code: string | null = null): string {
  if (framing === 'ndjson') return JSON.stringify({ error: message }) + '\n'
  return `data: ${JSON.stringify({ error: { message, type: 'api_error', code } })}\n\n`
}
