// The one table of what Gatehouse proxies. Anything not listed here is 404 and never
// reaches Ollama. The proxy, the policy check, masking and the audit all read this table.
import type { Permission } from '../config/schema.js'
import { familyOfPath, type ErrorFamily } from './error-shape.js'

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE'

/** How the route's reply is shaped, which decides masking and list filtering. */
export type ReplyKind =
  | 'generate' | 'chat' | 'embed'                 // /api/* NDJSON when streamed, JSON otherwise
  | 'openai-chat' | 'openai-completion' | 'openai-embed' // /v1/* SSE when streamed, JSON otherwise
  | 'tags' | 'ps' | 'openai-models' | 'openai-model'   // lists and items filtered by model rules
  | 'progress'                                     // pull/push/create NDJSON status lines
  | 'show'                                         // model details: Modelfile, template, system prompt, license
  | 'plain'                                        // anything else (version, copy, delete, blobs, /)

/**
 * Which JSON fields of the request body name a model, with Go encoding/json semantics applied by
 * the decoder (case-insensitive keys, last duplicate wins). `primary` wins when non-empty, then
 * `legacy` (Ollama's deprecated `name`), as Ollama's `cmp.Or(req.Model, req.Name)` does.
 */
export interface ModelField { primary: string, legacy?: string, required: boolean }

export interface ProxiedRoute {
  id: string
  method: HttpMethod
  /** Fastify path; `:model` / `:digest` are single path segments */
  path: string
  permission: Permission
  /** error shape: native `{"error":"…"}` or OpenAI's `{"error":{message,type,code}}` */
  family: ErrorFamily
  body: 'json' | 'none' | 'binary'
  modelFields: ModelField[]
  /** the path parameter that names a model, if any */
  modelParam?: 'model'
  reply: ReplyKind
}

const r = (
  method: HttpMethod, path: string, permission: Permission, body: ProxiedRoute['body'], reply: ReplyKind,
  modelFields: ModelField[] = [], extra: Partial<ProxiedRoute> = {}
): ProxiedRoute => ({
  id: `${method} ${path}`, method, path, permission, family: familyOfPath(path),
  body, modelFields, reply, ...extra
})

const model: ModelField = { primary: 'model', required: true }
const modelOrName: ModelField = { primary: 'model', legacy: 'name', required: true }

export const PROXIED_ROUTES: readonly ProxiedRoute[] = Object.freeze([
  // inference
  r('POST', '/api/generate', 'inference', 'json', 'generate', [model]),
  r('POST', '/api/chat', 'inference', 'json', 'chat', [model]),
  r('POST', '/api/embed', 'inference', 'json', 'embed', [model]),
  r('POST', '/api/embeddings', 'inference', 'json', 'embed', [model]),
  r('POST', '/v1/chat/completions', 'inference', 'json', 'openai-chat', [model]),
  r('POST', '/v1/completions', 'inference', 'json', 'openai-completion', [model]),
  r('POST', '/v1/embeddings', 'inference', 'json', 'openai-embed', [model]),
  // models:read
  r('GET', '/api/tags', 'models:read', 'none', 'tags'),
  r('HEAD', '/api/tags', 'models:read', 'none', 'tags'),
  r('POST', '/api/show', 'models:read', 'json', 'show', [modelOrName]),
  r('GET', '/v1/models', 'models:read', 'none', 'openai-models'),
  r('GET', '/v1/models/:model', 'models:read', 'none', 'openai-model', [], { modelParam: 'model' }),
  // models:manage
  r('POST', '/api/pull', 'models:manage', 'json', 'progress', [modelOrName]),
  r('POST', '/api/push', 'models:manage', 'json', 'progress', [modelOrName]),
  r('POST', '/api/create', 'models:manage', 'json', 'progress', [modelOrName, { primary: 'from', required: false }]),
  r('POST', '/api/copy', 'models:manage', 'json', 'plain',
    [{ primary: 'source', required: true }, { primary: 'destination', required: true }]),
  r('DELETE', '/api/delete', 'models:manage', 'json', 'plain', [modelOrName]),
  // models:upload: raw blobs, which /api/create can turn into any model by `files` / `adapters`
  r('HEAD', '/api/blobs/:digest', 'models:upload', 'none', 'plain'),
  r('POST', '/api/blobs/:digest', 'models:upload', 'binary', 'plain'),
  // status:read
  r('GET', '/api/ps', 'status:read', 'none', 'ps'),
  r('GET', '/api/version', 'status:read', 'none', 'plain'),
  r('HEAD', '/api/version', 'status:read', 'none', 'plain'),
  r('GET', '/', 'status:read', 'none', 'plain'),
  r('HEAD', '/', 'status:read', 'none', 'plain')
])

/** Paths (as registered) with the methods each allows: a known path with another method is 405. */
export function methodsByPath (): Map<string, HttpMethod[]> {
  const m = new Map<string, HttpMethod[]>()
  for (const route of PROXIED_ROUTES) m.set(route.path, [...(m.get(route.path) ?? []), route.method])
  return m
}

/** The path sent upstream: the table's path with its parameter filled in, never the client's raw URL. */
export function upstreamPath (route: ProxiedRoute, params: Record<string, string>): string {
  // params already passed the path gate's character set; ':' stays literal as Ollama's names use it
  return route.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? '').replace(/%3A/gi, ':'))
}
