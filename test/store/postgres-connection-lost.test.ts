// PostgreSQL: a server that ends a connection while a transaction holds it between two statements
// (on a restart, "terminating connection due to administrator command" can arrive in the same read
// as the reply to the statement before) fails that transaction with GH_ERR_STORE_UNAVAILABLE. It
// must not crash the process with an unhandled 'error' event on the checked-out client, and the
// pool carries on with a new connection. A proxy in front of the server holds the server's bytes
// and hands them over in one write, so the error reaches the client with no statement running.
import { connect, createServer, type Server, type Socket } from 'node:net'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createStore } from '../../src/store/index.js'
import type { StoreBackend, UsageRecord } from '../../src/store/types.js'
import { eventually } from '../helpers/eventually.js'
import { dropSchemas, findPostgres, uniqueSchema, urlWithSchema } from './pg-env.js'

const base = await findPostgres()

/** A TCP proxy to the server that can hold what the server sends and release it in one write per connection. */
async function holdingProxy (target: URL): Promise<{ port: number, hold: () => void, release: () => void, serverClosed: () => number, close: () => Promise<void> }> {
  let holding = false
  let closedByServer = 0
  const pairs = new Set<{ client: Socket, pending: Buffer[] }>()
  const server: Server = createServer((client) => {
    const pair = { client, pending: [] as Buffer[] }
    pairs.add(pair)
    const upstream = connect({ host: target.hostname, port: Number(target.port || 5432) })
    client.on('data', (d: Buffer) => upstream.write(d))
    upstream.on('data', (d: Buffer) => { if (holding) pair.pending.push(d); else client.write(d) })
    upstream.on('close', () => { closedByServer++; if (!holding) client.destroy() })
    client.on('close', () => { upstream.destroy(); pairs.delete(pair) })
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    hold: () => { holding = true },
    release: () => {
      holding = false
      for (const p of pairs) {
        if (p.pending.length > 0) p.client.write(Buffer.concat(p.pending.splice(0)))
      }
    },
    serverClosed: () => closedByServer,
    close: async () => {
      for (const p of pairs) p.client.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

const rec: UsageRecord = {
  at: Date.UTC(2026, 0, 1), identity: 'alice', credential: 'session', role: 'user', model: 'llama3.2:latest', upstream: 'default',
  inputTokens: 7, outputTokens: 4, durationMs: 5, status: 200, incomplete: false
}

describe.skipIf(base === null)('PostgreSQL connection lost inside a transaction', () => {
  const url = base ?? ''
  const schema = uniqueSchema('lost')
  afterAll(async () => { if (base !== null) await dropSchemas(url, [schema]) })

  it('a termination that arrives between two statements fails the transaction with 503, and the store goes on', async () => {
    const proxy = await holdingProxy(new URL(url))
    const viaProxy = new URL(url)
    viaProxy.port = String(proxy.port)
    viaProxy.searchParams.set('application_name', schema)
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    let store: StoreBackend | null = null
    try {
      store = await createStore(urlWithSchema(viaProxy.toString(), schema), { poolSize: 1 })
      await store.insertUsage([rec])

      proxy.hold()
      // a transaction of two statements (the purge of ended sessions and keys)
      const pending = store.purgeEnded(0).then(() => 'no error', (err: { code?: unknown }) => err.code)
      // BEGIN has been answered (held by the proxy): end that connection from the server's side
      let pid = 0
      await eventually(async () => {
        const r = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'", [schema])
        expect(r.rows.length).toBe(1)
        pid = (r.rows[0] as { pid: number }).pid
      })
      const closedBefore = proxy.serverClosed()
      await admin.query('SELECT pg_terminate_backend($1)', [pid])
      await eventually(() => { expect(proxy.serverClosed()).toBe(closedBefore + 1) })
      // BEGIN's reply and the termination reach the client in one read
      proxy.release()

      expect(await pending).toBe('GH_ERR_STORE_UNAVAILABLE')
      await store.insertUsage([rec])
      const r = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".usage_records`)
      expect(Number(r.rows[0]?.n)).toBe(2)
    } finally {
      await store?.close()
      await admin.end()
      await proxy.close()
    }
  })
})
