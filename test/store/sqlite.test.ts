// The Store contract on SQLite: a file in a temp folder (a second handle is a second connection to
// that file), and the in-memory database tests and the CLI use.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { createStore } from '../../src/store/index.js'
import type { StoreBackend } from '../../src/store/types.js'
import { storeContractTests } from './contract.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

const paths = new WeakMap<StoreBackend, string>()
let n = 0

storeContractTests('sqlite file', async () => {
  const url = `sqlite:${join(dir, `db-${n++}.db`)}`
  const store = await createStore(url)
  paths.set(store, url)
  return store
}, { openAnother: async (store) => await createStore(paths.get(store) as string) })

storeContractTests('sqlite :memory:', async () => await createStore('sqlite::memory:'))
