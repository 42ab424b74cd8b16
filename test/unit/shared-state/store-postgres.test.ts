// Store-backed shared state on PostgreSQL: how replicas without Redis share counters. Each instance
// gets its own Store (own pool), as two gateway processes would.
import { afterAll, describe, it } from 'vitest'
import { createSharedState } from '../../../src/shared-state/index.js'
import { createStore } from '../../../src/store/index.js'
import type { StoreBackend } from '../../../src/store/types.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from '../../store/pg-env.js'
import { sharedStateContractTests } from './contract.js'

const base = await findPostgres()

if (base === null) {
  describe.skip('SharedState contract: store-backed (postgres) (no server; see the warning above)', () => { it('needs PostgreSQL', () => {}) })
} else {
  const schema = uniqueSchema('state')
  const stores: StoreBackend[] = []
  afterAll(async () => {
    for (const s of stores) await s.close()
    await dropSchemas(base, [schema])
  })
  sharedStateContractTests('store-backed (postgres)', async (prefix) => {
    const store = await createStore(urlWithSchema(base, schema), { poolSize: 6 })
    stores.push(store)
    return createSharedState({ store, prefix }) // PostgreSQL without Redis picks 'store' by itself
  }, { shared: true })
}
