// The Store contract on PostgreSQL: every test gets its own schema, named in the URL the way an
// operator would (`options=-c search_path=…`); a second handle is a second pool on that schema.
import { afterAll, describe } from 'vitest'
import { createStore } from '../../src/store/index.js'
import type { StoreBackend } from '../../src/store/types.js'
import { storeContractTests } from './contract.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from './pg-env.js'

const base = await findPostgres()
const schemas: string[] = []
const urls = new WeakMap<StoreBackend, string>()

// outside CI an unreachable server skips (the finder prints why); in CI it throws instead
describe.skipIf(base === null)('Store contract on PostgreSQL', () => {
  const server = base as string // its hooks and tests run only when the server answered
  afterAll(async () => { await dropSchemas(server, schemas) })
  storeContractTests('postgres', async () => {
    const schema = uniqueSchema('contract')
    schemas.push(schema)
    const url = urlWithSchema(server, schema)
    const store = await createStore(url, { poolSize: 8 })
    urls.set(store, url)
    return store
  }, { openAnother: async (store) => await createStore(urls.get(store) as string, { poolSize: 8 }) })
})
