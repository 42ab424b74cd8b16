// Redis-backed shared state (redis.url set): every instance opens its own connection, as replicas do.
import { afterAll, describe } from 'vitest'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { deletePrefix, findRedis, uniquePrefix } from './redis-env.js'
import { sharedStateContractTests } from './contract.js'

const url = await findRedis()

// outside CI an unreachable server skips (the finder prints why); in CI it throws instead
describe.skipIf(url === null)('SharedState on Redis', () => {
  const server = url as string // its hooks and tests run only when the server answered
  const root = uniquePrefix('contract')
  afterAll(async () => { await deletePrefix(server, root) })
  sharedStateContractTests('redis', async (prefix) => {
    const s = createSharedState({ redisUrl: server, prefix: root + prefix })
    if (s.kind !== 'redis') throw new Error(`expected redis, got ${s.kind}`)
    return s
  }, { shared: true })
})
