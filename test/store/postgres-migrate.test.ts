// PostgreSQL specifics: replicas starting together migrate once, a schema can come from the URL or
// an option, and schema names are never interpolated unchecked.
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore } from '../../src/store/index.js'
import { migrations } from '../../src/store/migrations.js'
import { schemaFromUrl } from '../../src/store/postgres.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from './pg-env.js'

const base = await findPostgres()
const schemas: string[] = []
const T = Date.UTC(2026, 0, 1)

async function codeOf (p: Promise<unknown>): Promise<unknown> {
  try { await p } catch (err) { return (err as { code?: unknown }).code }
  return 'no error'
}

describe('schemaFromUrl', () => {
  it('reads search_path from the options parameter', () => {
    expect(schemaFromUrl('postgres://u@h/db?options=-c%20search_path%3Dtenant_a')).toBe('tenant_a')
    expect(schemaFromUrl('postgres://u@h/db')).toBeUndefined()
  })
})

describe.skipIf(base === null)('PostgreSQL migrations and schemas', () => {
  const url = base ?? ''
  afterAll(async () => { if (base !== null) await dropSchemas(url, schemas) })

  it('three replicas migrating a fresh schema at once apply each version exactly once', async () => {
    const schema = uniqueSchema('race')
    schemas.push(schema)
    const stores = await Promise.all([1, 2, 3].map(async () => await createStore(urlWithSchema(url, schema), { poolSize: 2 })))
    await Promise.all(stores.map(async (s) => { await s.migrate() }))
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const rows = (await c.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows as Array<{ version: number }>
    await c.end()
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
    await stores[0]?.createUser({ username: 'alice', roles: ['user'], passwordHash: 'h' }, T)
    expect(await stores[2]?.countUsers()).toBe(1)
    for (const s of stores) await s.close()
  })

  it('the schema option isolates deployments sharing one database', async () => {
    const a = uniqueSchema('opt_a')
    const b = uniqueSchema('opt_b')
    schemas.push(a, b)
    const sa = await createStore(url, { schema: a })
    const sb = await createStore(url, { schema: b })
    await sa.createUser({ username: 'alice', roles: ['user'], passwordHash: 'h' }, T)
    expect(await sa.countUsers()).toBe(1)
    expect(await sb.countUsers()).toBe(0)
    await sa.close()
    await sb.close()
  })

  it('a schema name that is not a plain identifier is GH_ERR_STORE', async () => {
    expect(await codeOf(createStore(url, { schema: 'x"; DROP TABLE users; --' }))).toBe('GH_ERR_STORE')
  })
})
