// Two real OS processes, each with its own Store (own pg pool) or Redis connection, hammer the same
// user and the same counters at once. Only the database or Redis can keep them consistent, so these
// totals prove the primitives are atomic across replicas, not just within one event loop.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore } from '../../src/store/index.js'
import { deletePrefix, findRedis, uniquePrefix } from '../unit/cluster-state/redis-env.js'
import { buildFixture, type BuiltFixture } from './fixtures/build-fixture.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from './pg-env.js'

const HAMMER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hammer.mjs')
const N = 40
const MAX = 25
const SLOTS = 6
const pgBase = await findPostgres()
const redisUrl = await findRedis()

interface HammerResult {
  pid: number
  kind: string
  failures?: Array<{ failedCount: number, lockedUntil: number | null, justLocked: boolean }>
  sameStep?: boolean[]
  steps?: number[]
  hits: number[]
  slots: number
}

let built: BuiltFixture
beforeAll(() => { built = buildFixture(['src/store/index.ts', 'src/cluster-state/index.ts']) })
afterAll(() => { built?.remove() })

/** Starts both processes, lets them connect, then releases them together. */
async function hammerTogether (cfg: Record<string, unknown>): Promise<HammerResult[]> {
  const children = [0, 1].map(() => fork(HAMMER, [JSON.stringify({ ...cfg, build: built.dir })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const wait = (type: string) => Promise.all(children.map(async (c) => await new Promise<Record<string, unknown>>((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (m.type === type) { c.off('message', onMessage); resolve(m) }
      if (m.type === 'error') reject(new Error(String(m.message)))
    }
    c.on('message', onMessage)
    c.once('exit', (code) => { if (code !== 0) reject(new Error(`hammer exited with ${code}`)) })
  })))
  try {
    await wait('ready')
    const done = wait('done')
    for (const c of children) c.send('go')
    return (await done).map((m) => m.out as HammerResult)
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill()
  }
}

function expectSharedStateTotals (results: HammerResult[]): void {
  expect(results.flatMap((r) => r.hits).sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1))
  expect(results.reduce((n, r) => n + r.slots, 0)).toBe(SLOTS)
}

async function expectExactStoreTotals (url: string): Promise<void> {
  const store = await createStore(url)
  await store.createUser({ username: 'alice', roles: ['user'], passwordHash: 'h' }, Date.UTC(2026, 0, 1))
  const steps = Array.from({ length: 30 }, (_, i) => 100 + i)
  const results = await hammerTogether({ mode: 'store', url, prefix: 'procs:', username: 'alice', n: N, max: MAX, steps, slotLimit: SLOTS })
  expect(new Set(results.map((r) => r.pid)).size).toBe(2)
  expect(results.map((r) => r.kind)).toEqual(['store', 'store'])

  const failures = results.flatMap((r) => r.failures ?? [])
  expect(failures.map((f) => f.failedCount).sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1))
  expect(failures.filter((f) => f.justLocked).map((f) => f.failedCount)).toEqual([MAX])
  expect(await store.failureState('alice')).toMatchObject({ failedCount: 2 * N })

  expect(results.flatMap((r) => r.sameStep ?? []).filter(Boolean)).toHaveLength(1)
  const won = results.flatMap((r) => r.steps ?? [])
  expect(won.length).toBe(new Set(won).size) // no step accepted twice across processes
  expect((await store.getUser('alice'))?.totpLastStep).toBe(1_000_000)

  expectSharedStateTotals(results)
  await store.close()
}

describe.skipIf(pgBase === null)('two processes on one PostgreSQL', () => {
  const schema = uniqueSchema('procs')
  afterAll(async () => { if (pgBase !== null) await dropSchemas(pgBase, [schema]) })

  it('recordFailure, claimTotpStep and the store-backed shared state give exact totals', async () => {
    await expectExactStoreTotals(urlWithSchema(pgBase ?? '', schema))
  })
})

describe('two processes on one SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-procs-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('recordFailure, claimTotpStep and the store-backed shared state give exact totals', async () => {
    await expectExactStoreTotals(`sqlite:${join(dir, 'shared.db')}`)
  })
})

describe.skipIf(redisUrl === null)('two processes on one Redis', () => {
  const prefix = uniquePrefix('procs')
  afterAll(async () => { if (redisUrl !== null) await deletePrefix(redisUrl, prefix) })

  it('hit and acquire give exact totals', async () => {
    const results = await hammerTogether({ mode: 'redis', url: redisUrl, prefix, n: N, slotLimit: SLOTS })
    expect(results.map((r) => r.kind)).toEqual(['redis', 'redis'])
    expectSharedStateTotals(results)
  })
})
