// Store-backed shared state on PostgreSQL: how replicas without Redis share counters. Each instance
// gets its own Store (own pool), as two gateway processes would.
import { afterAll, describe } from 'vitest'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { createStore } from '../../../src/store/index.js'
import type { StoreBackend } from '../../../src/store/types.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from '../../store/pg-env.js'
import { sharedStateContractTests } from './contract.js'

const base = await findPostgres()

// outside CI an unreachable server skips (the finder prints why); in CI it throws instead
describe.skipIf(base === null)('SharedState on PostgreSQL (store-backed)', () => {
  const server = base as string // its hooks and tests run only when the server answered
  const schema = uniqueSchema('state')
  const stores: StoreBackend[] = []
  afterAll(async () => {
    for (const s of stores) await s.close()
    await dropSchemas(server, [schema])
  })
  sharedStateContractTests('store-backed (postgres)', async (prefix) => {
    const store = await createStore(urlWithSchema(server, schema), { poolSize: 6 })
    stores.push(store)
    return createSharedState({ store, prefix }) // PostgreSQL without Redis picks 'store' by itself
  }, { shared: true })
})
