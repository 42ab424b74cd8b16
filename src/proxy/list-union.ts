// The model lists of several hosts as one: /api/tags, /api/ps and /v1/models are read from every
// healthy host and merged, one entry per model name (the first host's entry wins), then filtered by
// the caller's role like a single host's list. A host that does not answer is left out; when none
// answers the client gets the 502 a single host would give.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../errors.js'
import { isObj } from '../ollama/json-object.js'
import { upstreamPath, type ProxiedRoute } from '../ollama/routes.js'
import { upstreamRequestHeaders } from './headers.js'
import { clientGone, MAX_JSON_REPLY_BYTES, type ReplyStages } from './stages.js'
import type { HostLease } from './target.js'
import { isUpstreamTimeout, upstreamError } from './upstream.js'
import { callUpstream, readAll } from './upstream-call.js'

/** Merges `{"<key>":[…]}` documents: one entry per name, first seen wins. Pure. */
export function unionOfLists (
  docs: readonly unknown[], key: 'models' | 'data', nameKeys: readonly string[]
): Record<string, unknown> | null {
  let base: Record<string, unknown> | null = null
  const seen = new Set<string>()
  const merged: unknown[] = []
  for (const doc of docs) {
    if (!isObj(doc) || !Array.isArray(doc[key])) continue
    base ??= doc
    for (const entry of doc[key] as unknown[]) {
      const name = isObj(entry) ? nameKeys.map((k) => entry[k]).find((v) => typeof v === 'string' && v !== '') : undefined
      // an entry without a name cannot be told apart: kept, the role filter drops it
      if (typeof name === 'string') {
        if (seen.has(name)) continue
        seen.add(name)
      }
      merged.push(entry)
    }
  }
  return base === null ? null : { ...base, [key]: merged }
}

export function createListUnion (stages: ReplyStages) {
  return async function listUnion (
    request: FastifyRequest, reply: FastifyReply, hosts: HostLease[], abort: AbortController
  ): Promise<void> {
    const route = request.gh.route as ProxiedRoute
    const key = route.reply === 'openai-models' ? 'data' : 'models'
    const nameKeys = key === 'data' ? ['id'] : ['name', 'model']
    request.gh.upstream = hosts.map((h) => h.name).join(',')
    request.gh.attempts = 1
    let lastError: unknown = null
    const docs = await Promise.all(hosts.map(async (h) => {
      try {
        const res = await callUpstream(h.upstream.pool, {
          method: 'GET',
          path: upstreamPath(route, {}),
          headers: upstreamRequestHeaders(request.headers, h.upstream.host, request.gh.id, null),
          headersTimeout: h.upstream.headersTimeoutMs,
          bodyTimeout: h.upstream.idleTimeoutMs
        }, abort.signal)
        const raw = await readAll(res.body, MAX_JSON_REPLY_BYTES)
        if (res.statusCode !== 200) {
          h.release(res.statusCode >= 500 ? 'failure' : 'success', `answered ${res.statusCode}`)
          return null
        }
        h.release('success')
        return JSON.parse(raw.toString('utf8')) as unknown
      } catch (err) {
        lastError = err
        h.release(abort.signal.aborted ? 'neutral' : 'failure', isUpstreamTimeout(err) ? 'timeout' : 'unavailable')
        return null
      }
    }))
    if (abort.signal.aborted) return clientGone(request, reply, stages)
    const merged = unionOfLists(docs, key, nameKeys)
    if (merged === null) {
      stages.upstreamFailed?.(request, lastError !== null && isUpstreamTimeout(lastError) ? 'timeout' : 'unavailable')
      throw lastError !== null ? upstreamError(lastError) : new errors.UPSTREAM_UNAVAILABLE()
    }
    const out = await stages.json(request, route, Buffer.from(JSON.stringify(merged)), 200)
    await stages.beforeEnd(request, 200)
    reply.code(200).header('content-type', 'application/json; charset=utf-8').header('content-length', out.length)
    return reply.send(out)
  }
}
