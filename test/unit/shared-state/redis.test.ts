// Redis-backed shared state (redis.url set): every instance opens its own connection, as replicas do.
import { afterAll, describe, it } from 'vitest'
import { createSharedState } from '../../../src/shared-state/index.js'
import { deletePrefix, findRedis, uniquePrefix } from './redis-env.js'
import { sharedStateContractTests } from './contract.js'

const url = await findRedis()

if (url === null) {
  describe.skip('SharedState contract: redis (no server; see the warning above)', () => { it('needs Redis', () => {}) })
} else {
  const root = uniquePrefix('contract')
  afterAll(async () => { await deletePrefix(url, root) })
  sharedStateContractTests('redis', async (prefix) => {
    const s = createSharedState({ redisUrl: url, prefix: root + prefix })
    if (s.kind !== 'redis') throw new Error(`expected redis, got ${s.kind}`)
    return s
  }, { shared: true })
}
