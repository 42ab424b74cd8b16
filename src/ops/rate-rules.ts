// Pure rules of the per-identity limits: whose bucket a request falls in, whether it asks for a
// stream, and how long a refused client should wait. No I/O, no clock of its own.
import type { Identity } from '../auth/identity.js'
import type { ProxiedRoute, ReplyKind } from '../ollama/routes.js'
import type { JsonKind } from '../ollama/go-json.js'

/** Reply kinds that stream; embeddings and lists never do. */
const STREAMING_KINDS: ReadonlySet<ReplyKind> = new Set(['generate', 'chat', 'openai-chat', 'openai-completion', 'progress'])

/**
 * One bucket per person (all their sessions share it) or per API key. The credential type is part
 * of the key, so a user and a key that happen to share a name never share a bucket.
 */
export function identityKey (identity: Pick<Identity, 'credential' | 'name' | 'credentialId'>): string {
  return identity.credential === 'api_key'
    ? `key:${identity.credentialId}`
    : `user:${encodeURIComponent(identity.name)}`
}

/**
 * Whether Ollama will stream its reply, from the kind of the body's `stream` member as the policy
 * read it (Go's reading: keys match case-insensitively, the last one wins, so
 * `{"stream":false,"STREAM":true}` is a stream); null when the body has none.
 * /api/* streams unless `stream` is false; /v1/* streams only when it is set (true, or anything
 * Ollama would reject anyway, which costs nothing to count).
 */
export function wantsStream (route: Pick<ProxiedRoute, 'reply' | 'family'>, stream: JsonKind | null): boolean {
  if (!STREAMING_KINDS.has(route.reply)) return false
  if (route.family === 'native') return stream !== 'false'
  return stream !== null && stream !== 'false' && stream !== 'null'
}
