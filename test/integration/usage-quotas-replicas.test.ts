// Two gateway instances share one token budget: over Redis, and over PostgreSQL without Redis. A
// client cannot double its quota by spreading requests over replicas.
import { afterAll, describe, expect, it } from 'vitest'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { eventually } from '../helpers/eventually.js'
import { deletePrefix, findRedis, uniquePrefix } from '../unit/cluster-state/redis-env.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from '../store/pg-env.js'
import { counterKey, periodWindow } from '../../src/quotas/rules.js'

const redisUrl = await findRedis()
const pgUrl = await findPostgres()
const COST = 11
const schemas: string[] = []
const prefixes: string[] = []
const opened: Array<TestGateway | FakeOllama> = []

afterAll(async () => {
  for (const x of opened.reverse()) await x.close()
  if (pgUrl) await dropSchemas(pgUrl, schemas)
  if (redisUrl) for (const p of prefixes) await deletePrefix(redisUrl, p)
})

async function generate (gw: TestGateway, key: string) {
  return await call(gw, 'POST', '/api/generate', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', prompt: 'hi', stream: false })
  })
}

async function sharedBudget (overrides: (i: number) => Record<string, unknown>): Promise<void> {
  const fake = await startFakeOllama()
  opened.push(fake)
  const quotas = { rules: [{ key: 'shared-bot', tokensPerDay: 3 * COST }] }
  const a = await startTestGateway({ ...overrides(0), quotas }, { fake })
  opened.push(a)
  const b = await startTestGateway({ ...overrides(1), quotas }, { fake })
  opened.push(b)
  // quotas count by key name: a key of that name on each replica (one store or two) shares the budget
  const keyA = await a.createKey('user', 'shared-bot')
  const keyB = await b.createKey('user', 'shared-bot')
  const used = async () => {
    const w = periodWindow('day', Date.now())
    return await a.gateway.quotaCounters.add(counterKey({ credential: 'api_key', name: 'shared-bot' }, 'day', w), 0, w.end, Date.now())
  }
  expect((await generate(a, keyA)).status).toBe(200)
  await eventually(async () => { expect(await used()).toBe(COST) })
  expect((await generate(b, keyB)).status).toBe(200)
  await eventually(async () => { expect(await used()).toBe(2 * COST) })
  expect((await generate(a, keyA)).status).toBe(200)
  await eventually(async () => { expect(await used()).toBe(3 * COST) })
  const refusedB = await generate(b, keyB)
  const refusedA = await generate(a, keyA)
  expect([refusedA.status, refusedB.status]).toEqual([429, 429])
  expect(refusedB.json).toEqual({ error: expect.stringMatching(/^token quota exceeded: 33 tokens per day \(key shared-bot\); resets at /) })
}

describe.skipIf(redisUrl === null)('two gateways sharing Redis', () => {
  it('count one budget: the third request on either replica exhausts it for both', async () => {
    const prefix = uniquePrefix('usage-quotas')
    prefixes.push(prefix)
    await sharedBudget(() => ({ redis: { url: redisUrl, keyPrefix: prefix } }))
  }, 60_000)
})

describe.skipIf(pgUrl === null)('two gateways sharing PostgreSQL (no Redis)', () => {
  it('count one budget in the store', async () => {
    const schema = uniqueSchema('usage_quotas')
    schemas.push(schema)
    await sharedBudget(() => ({ store: { url: urlWithSchema(pgUrl as string, schema) } }))
  }, 60_000)
})
