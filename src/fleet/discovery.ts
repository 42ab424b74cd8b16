// Reads what one Ollama host has: its model list (GET /api/tags) and the models it holds in memory
// (GET /api/ps), both `{"models":[{"name","model",…}]}`. Run in the background by the fleet, never
// on a request's path; a reply that cannot be read counts as a failed read, never as "no models".
import type { Upstream } from '../proxy/upstream.js'
import { isObj } from '../ollama/json-object.js'

export interface HostModels { models: string[], loaded: string[] }

class DiscoveryError extends Error {}

/** Model names of a `{"models":[…]}` list; anything else is a DiscoveryError. */
function modelNamesOf (body: unknown): string[] {
  if (!isObj(body) || !Array.isArray(body.models)) throw new DiscoveryError('model list is not {"models":[…]}')
  const names: string[] = []
  for (const entry of body.models) {
    if (!isObj(entry)) throw new DiscoveryError('model list entry is not an object')
    const name = typeof entry.name === 'string' && entry.name !== '' ? entry.name : entry.model
    if (typeof name !== 'string' || name === '') throw new DiscoveryError('model list entry has no name')
    names.push(name)
  }
  return names
}

async function getJson (upstream: Upstream, path: string, timeoutMs: number): Promise<unknown> {
  const res = await upstream.pool.request({
    method: 'GET', path, headers: { host: upstream.host, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs)
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new DiscoveryError(`${path} answered ${res.statusCode}`)
  try {
    return JSON.parse(text)
  } catch {
    throw new DiscoveryError(`${path} is not JSON`)
  }
}

/** One read of a host's model list and loaded models. Rejects when either cannot be read. */
export async function readHostModels (upstream: Upstream, timeoutMs: number): Promise<HostModels> {
  const [tags, ps] = await Promise.all([getJson(upstream, '/api/tags', timeoutMs), getJson(upstream, '/api/ps', timeoutMs)])
  return { models: modelNamesOf(tags), loaded: modelNamesOf(ps) }
}

/** The probe that brings an ejected host back: GET /api/version answering 200. */
export async function probeHost (upstream: Upstream, timeoutMs: number): Promise<string> {
  const body = await getJson(upstream, '/api/version', timeoutMs)
  if (!isObj(body) || typeof body.version !== 'string') throw new DiscoveryError('/api/version has no version')
  return body.version
}
