import { describe, expect, it } from 'vitest'
import { chooseBackend, createSharedState } from '../../../src/cluster-state/index.js'
import type { StoreBackend } from '../../../src/store/types.js'

const fakeStore = (kind: 'sqlite' | 'postgres') => ({ kind }) as unknown as StoreBackend

describe('which shared-state backend a deployment gets', () => {
  it('Redis when redis.url is set, else PostgreSQL via the store, else process memory', () => {
    expect(chooseBackend({ redisUrl: 'redis://127.0.0.1:6379', store: fakeStore('postgres') })).toBe('redis')
    expect(chooseBackend({ redisUrl: null, store: fakeStore('postgres') })).toBe('store')
    expect(chooseBackend({ store: fakeStore('sqlite') })).toBe('memory')
    expect(chooseBackend({})).toBe('memory')
    expect(chooseBackend({ backend: 'store', store: fakeStore('sqlite') })).toBe('store')
  })

  it('a forced backend without what it needs is GH_ERR_STORE', () => {
    expect(() => createSharedState({ backend: 'redis' })).toThrow(expect.objectContaining({ code: 'GH_ERR_STORE' }))
    expect(() => createSharedState({ backend: 'store' })).toThrow(expect.objectContaining({ code: 'GH_ERR_STORE' }))
  })
})
