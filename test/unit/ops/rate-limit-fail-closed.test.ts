// Security: the rate limit never lets a request through for lack of an identity, and a shared
// counter that fails refuses the request instead of skipping the limit.
import { describe, expect, it } from 'vitest'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createRateLimitGuard } from '../../../src/ops/rate-limit.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import type { SharedState } from '../../../src/cluster-state/types.js'
import { manualClock } from '../../helpers/clock.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { PROXIED_ROUTES } from '../../../src/ollama/routes.js'

const clock = manualClock()
const route = PROXIED_ROUTES.find((r) => r.id === 'GET /api/tags')
const reply = { header: () => reply, raw: { closed: false, once: () => {} } } as unknown as FastifyReply
const config = { requestsPerMinute: 10, concurrentStreams: 2 }

function request (identity: boolean): FastifyRequest {
  const gh = { ...newRequestContext('r', '127.0.0.1'), route: route ?? null }
  if (identity) gh.identity = { credential: 'api_key', name: 'svc', roles: ['user'], amr: [], credentialId: 'k1', expiresAt: null }
  return { gh, log: { warn: () => {} } } as unknown as FastifyRequest
}

describe('rate limit fails closed', () => {
  it('a request without an identity is refused, not waved through', async () => {
    const guard = createRateLimitGuard({ sharedState: createSharedState({ backend: 'memory', clock }), config, clock })
    await expect(guard(request(false), reply)).rejects.toMatchObject({ code: 'GH_ERR_AUTH_REQUIRED' })
  })
  it('a shared counter that errors refuses the request', async () => {
    const broken = { ...createSharedState({ backend: 'memory', clock }), hit: async () => { throw new Error('redis down') } } as SharedState
    const guard = createRateLimitGuard({ sharedState: broken, config, clock })
    await expect(guard(request(true), reply)).rejects.toThrow('redis down')
  })
  it('with an identity and a working counter the request passes', async () => {
    const guard = createRateLimitGuard({ sharedState: createSharedState({ backend: 'memory', clock }), config, clock })
    await expect(guard(request(true), reply)).resolves.toBeUndefined()
  })
})
