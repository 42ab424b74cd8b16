// Finds the test Redis; in CI an unreachable server is a failure, elsewhere the tests skip loudly.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export async function findRedis (): Promise<string | null> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 })
  try {
    await r.connect()
    if (await r.ping() === 'PONG') return REDIS_URL
  } catch {
    // fall through
  } finally {
    r.disconnect()
  }
  if (process.env.CI === 'true') throw new Error(`Redis is required in CI but unreachable at ${REDIS_URL}`)
  console.warn(`[skip] Redis tests skipped: no server at ${REDIS_URL} (set GATEHOUSE_TEST_REDIS_URL; they never skip when CI=true)`)
  return null
}

export function uniquePrefix (tag: string): string {
  return `gh-test:${tag}:${process.pid}:${randomBytes(4).toString('hex')}:`
}

/** Deletes every key under a prefix (test cleanup). */
export async function deletePrefix (url: string, prefix: string): Promise<void> {
  const r = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await r.del(...keys)
    } while (cursor !== '0')
  } finally {
    r.disconnect()
  }
}
