// Which host of the fleet a proxied request goes to. A request naming a model (inference, /api/show,
// /v1/models/{model}) goes to a healthy host that has it; lists are read from every healthy host;
// model management goes to the host named in X-Gatehouse-Upstream, else to every healthy host (the
// ones that have the model for delete and push). With one host every request goes to it, as before.
import type { FastifyRequest } from 'fastify'
import type { Clock } from '../clock.js'
import { errors } from '../errors.js'
import type { Acquired, Fleet } from '../fleet/fleet.js'
import { isHealthy } from '../fleet/host-state.js'
import type { ProxiedRoute } from '../ollama/routes.js'
import type { HostLease, UpstreamTargets } from '../proxy/target.js'

const TARGET_HEADER = 'x-gatehouse-upstream'

const LISTS = new Set(['tags', 'ps', 'openai-models'])
const ONLY_WHERE_PRESENT = new Set(['DELETE /api/delete', 'POST /api/push'])

/** Requests that run a model and so go to a host that has it. */
const routedByModel = (route: ProxiedRoute): boolean =>
  route.permission === 'inference' || route.id === 'POST /api/show' || route.reply === 'openai-model'

const toHostLease = (a: Acquired): HostLease | null =>
  a.kind === 'lease' ? { name: a.lease.host.name, upstream: a.lease.upstream, release: a.lease.release } : null

export function createFleetTargets (fleet: Fleet, clock: Clock): UpstreamTargets {
  const single = fleet.hosts.length === 1 ? fleet.hosts[0]?.name ?? null : null
  const names = fleet.hosts.map((h) => h.name)

  /** The host X-Gatehouse-Upstream names on a management route, or null when it names none. */
  const targetOf = (request: FastifyRequest): string | null => {
    const route = request.gh.route as ProxiedRoute
    const raw = request.headers[TARGET_HEADER]
    if (route.permission !== 'models:manage' || raw === undefined) return null
    const name = (Array.isArray(raw) ? raw.join(',') : raw).trim()
    if (!names.includes(name)) throw new errors.UNKNOWN_UPSTREAM(name.slice(0, 64), names.join(', '))
    return name
  }

  const on = async (name: string, signal?: AbortSignal): Promise<HostLease | null> => toHostLease(await fleet.acquireOn(name, signal))

  const healthyLeases = async (keep: (name: string) => boolean): Promise<HostLease[]> => {
    const now = clock.now()
    const leases = await Promise.all(fleet.hosts.filter((h) => isHealthy(h, now) && keep(h.name)).map((h) => on(h.name)))
    return leases.filter((l): l is HostLease => l !== null)
  }

  return {
    async first (request, reply, signal) {
      const route = request.gh.route as ProxiedRoute
      const target = targetOf(request)
      if (target !== null) return await on(target, signal)
      if (single !== null) return await on(single, signal)
      const model = request.gh.models[0]
      if (routedByModel(route) && model !== undefined) {
        const got = await fleet.acquire(model, signal)
        if (got.kind === 'absent') throw new errors.MODEL_NOT_ON_ANY_HOST(model)
        if (got.kind === 'busy') {
          reply.header('retry-after', String(got.retryAfterSeconds))
          throw new errors.UPSTREAMS_BUSY(model)
        }
        return toHostLease(got)
      }
      const any = fleet.anyHost()
      if (any === null) throw new errors.UPSTREAM_UNAVAILABLE()
      return await on(any.host.name, signal)
    },
    async retry (request, tried, signal) {
      const route = request.gh.route as ProxiedRoute
      const model = request.gh.models[0]
      if (single !== null || model === undefined || !routedByModel(route) || targetOf(request) !== null) return null
      return toHostLease(await fleet.acquire(model, signal, tried))
    },
    modelMissing (request, name) {
      const model = request.gh.models[0]
      const host = fleet.hosts.find((h) => h.name === name)
      if (model !== undefined && host?.models?.has(model) === true) void fleet.rediscover(name)
    },
    async listHosts (request) {
      const route = request.gh.route as ProxiedRoute
      if (single !== null || route.method !== 'GET' || !LISTS.has(route.reply)) return null
      const leases = await healthyLeases(() => true)
      if (leases.length === 0) throw new errors.UPSTREAM_UNAVAILABLE()
      return leases
    },
    async fanOutHosts (request) {
      const route = request.gh.route as ProxiedRoute
      if (single !== null || route.permission !== 'models:manage' || targetOf(request) !== null) return null
      const model = request.gh.models[0]
      if (ONLY_WHERE_PRESENT.has(route.id) && model !== undefined) {
        const holders = new Set(fleet.hosts.filter((h) => h.models?.has(model) === true).map((h) => h.name))
        const leases = await healthyLeases((name) => holders.has(name))
        if (leases.length === 0) throw new errors.MODEL_NOT_ON_ANY_HOST(model)
        return leases
      }
      const leases = await healthyLeases(() => true)
      if (leases.length === 0) throw new errors.UPSTREAM_UNAVAILABLE()
      return leases
    }
  }
}
