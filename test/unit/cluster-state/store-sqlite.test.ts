// Store-backed shared state on SQLite: one file, two store handles play two processes on one host.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { createStore } from '../../../src/store/index.js'
import type { StoreBackend } from '../../../src/store/types.js'
import { sharedStateContractTests } from './contract.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-state-'))
const stores: StoreBackend[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
  rmSync(dir, { recursive: true, force: true })
})
const url = `sqlite:${join(dir, 'state.db')}`

sharedStateContractTests('store-backed (sqlite)', async (prefix) => {
  const store = await createStore(url)
  stores.push(store)
  return createSharedState({ backend: 'store', store, prefix })
}, { shared: true })
