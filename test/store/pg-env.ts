// Finds the test PostgreSQL server, and gives each test its own schema (dropped afterwards), so
// parallel test files never see each other's rows. In CI an unreachable server is a failure.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const CANDIDATES = process.env.GATEHOUSE_TEST_PG_URL
  ? [process.env.GATEHOUSE_TEST_PG_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test']

async function reachable (url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await c.connect()
    await c.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

/** The base URL of a reachable server, or null (with a warning) when none answers outside CI. */
export async function findPostgres (): Promise<string | null> {
  for (const url of CANDIDATES) if (await reachable(url)) return url
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but unreachable at ${CANDIDATES.join(', ')}`)
  console.warn(`[skip] PostgreSQL tests skipped: no server at ${CANDIDATES.join(', ')} (set GATEHOUSE_TEST_PG_URL; they never skip when CI=true)`)
  return null
}

export function uniqueSchema (tag: string): string {
  return `gh_test_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** The URL with `options=-c search_path=SCHEMA`, as an operator would write it. */
export function urlWithSchema (url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

export async function dropSchemas (url: string, schemas: Iterable<string>): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  } finally {
    await c.end()
  }
}
