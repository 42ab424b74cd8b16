// Two real gateway processes on one PostgreSQL: a logout on one is honoured by the other on the
// very next request, failures spread across both lock the account, and one TOTP code sent to
// both at once yields exactly one session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { stringify } from 'yaml'
import { startServe, type Served } from '../helpers/process.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { tempConfig, cli } from '../helpers/cli.js'
import { findPostgres, uniqueSchema, urlWithSchema, dropSchemas } from '../store/pg-env.js'
import { findRedis } from '../unit/cluster-state/redis-env.js'
import { totpCodeAt } from '../helpers/totp.js'
import { copyTestCerts } from '../helpers/tls.js'

const pgBase = await findPostgres()
const PASSWORD = 'violet-harbor-cinnamon-42'
const RPM = 40

let fake: FakeOllama
let a: Served
let b: Served
let agent: Agent
let configA: string
let dirAll: string

async function post (base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await request(base + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await r.body.text()
  return { status: r.statusCode, json: text ? JSON.parse(text) as Record<string, unknown> : null }
}
async function get (base: string, path: string, headers: Record<string, string>) {
  const r = await request(base + path, { dispatcher: agent, headers })
  await r.body.dump()
  return r.statusCode
}

// the same finders as the store and shared-state suites: in CI an unreachable server fails the file
const redisUrl = await findRedis()

const variants = [
  { name: 'shared state in PostgreSQL', redis: false },
  { name: 'shared state in Redis', redis: true }
]

// outside CI an unreachable server skips (the finders print why); in CI they throw instead
for (const { name, redis } of variants) describe.skipIf(pgBase === null || (redis && redisUrl === null))(`two gateway processes on one PostgreSQL (${name})`, () => {
  const schema = uniqueSchema(redis ? 'replicas_redis' : 'replicas')
  beforeAll(async () => {
    fake = await startFakeOllama()
    const { dir } = tempConfig()
    dirAll = dir
    const certs = copyTestCerts(join(dir, 'certs', 'server.crt'), join(dir, 'certs', 'server.key'))
    agent = new Agent({ connect: { ca: readFileSync(certs.caCert) } })
    const write = (name: string) => {
      mkdirSync(join(dir, name), { recursive: true })
      const file = join(dir, name, 'gatehouse.yaml')
      writeFileSync(file, stringify({
        listen: { host: '127.0.0.1', port: 0 },
        tls: { cert: '../certs/server.crt', key: '../certs/server.key' },
        upstream: { url: fake.url },
        dataDir: '../data', // shared secrets: both replicas sign and verify the same sessions
        store: { url: urlWithSchema(pgBase as string, schema) },
        auth: { lockout: { maxFailedAttempts: 3 } },
        rateLimit: { requestsPerMinute: RPM, concurrentStreams: 1000 },
        audit: { replicaId: name, sinks: [{ type: 'file', path: `../logs/${name}.log` }] },
        ...(redis ? { redis: { url: redisUrl, keyPrefix: `${schema}:` } } : {})
      }))
      return file
    }
    configA = write('a')
    const configB = write('b')
    a = await startServe(configA)
    b = await startServe(configB)
    expect((await cli(['user', 'add', 'carol', '--role', 'user', '--password-stdin', '--config', configA], PASSWORD + '\n')).code).toBe(0)
  })
  afterAll(async () => {
    a?.child.kill('SIGTERM')
    b?.child.kill('SIGTERM')
    await Promise.all([a?.exit, b?.exit])
    await agent?.close()
    await fake?.close()
    await dropSchemas(pgBase as string, [schema])
  })

  let secret = ''
  it('a session made on replica A works on B, and a logout on A kills it on B at once', async () => {
    const l = await post(a.url, '/auth/login', { username: 'carol', password: PASSWORD })
    secret = new URL(l.json?.otpauth_url as string).searchParams.get('secret') as string
    const m = await post(a.url, '/auth/mfa', { mfa_token: l.json?.mfa_token, code: await totpCodeAt(secret, Date.now()) })
    expect(m.status).toBe(200)
    const bearer = { authorization: `Bearer ${m.json?.access_token as string}` }
    expect(await get(b.url, '/api/tags', bearer)).toBe(200)
    expect((await post(a.url, '/auth/logout', {}, bearer)).status).toBe(204)
    expect(await get(b.url, '/api/tags', bearer)).toBe(401)
  })

  it('one TOTP code sent to both replicas at once yields exactly one session', async () => {
    const [la, lb] = await Promise.all([a, b].map((r) => post(r.url, '/auth/login', { username: 'carol', password: PASSWORD })))
    const code = await totpCodeAt(secret, Date.now() + 30_000) // next step: the last one is spent
    const results = await Promise.all([[a, la], [b, lb]].map(([r, l]) => post((r as Served).url, '/auth/mfa', { mfa_token: (l as { json: Record<string, unknown> }).json.mfa_token, code })))
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
  })

  it('failures spread across both replicas lock the account on both', async () => {
    expect((await post(a.url, '/auth/login', { username: 'carol', password: 'wrong-password-1' })).status).toBe(401)
    expect((await post(b.url, '/auth/login', { username: 'CAROL', password: 'wrong-password-2' })).status).toBe(401)
    expect((await post(a.url, '/auth/login', { username: ' carol', password: 'wrong-password-3' })).status).toBe(401)
    const right = await post(b.url, '/auth/login', { username: 'carol', password: PASSWORD })
    expect(right).toEqual({ status: 401, json: { error: 'invalid username or password' } })
    const list = await cli(['user', 'list', '--json', '--config', configA])
    const carol = (list.json() as { users: Array<{ username: string, lockedUntil: number | null }> }).users.find((u) => u.username === 'carol')
    expect(carol?.lockedUntil).toBeGreaterThan(Date.now())
  })

  it('under load on both replicas at once, one key gets exactly its per-minute limit, and a revocation holds on both', async () => {
    const created = JSON.parse((await cli(['key', 'create', '--name', 'loadgen', '--role', 'user', '--json', '--config', configA])).out) as { key: string }
    const bearer = { authorization: `Bearer ${created.key}` }
    const statuses = await Promise.all(Array.from({ length: RPM * 2 }, (_, i) => get(i % 2 === 0 ? a.url : b.url, '/api/tags', bearer)))
    expect(statuses.filter((s) => s === 200)).toHaveLength(RPM)
    expect(statuses.filter((s) => s === 429)).toHaveLength(RPM)

    const other = JSON.parse((await cli(['key', 'create', '--name', 'revoked', '--role', 'user', '--json', '--config', configA])).out) as { key: string, record: { id: string } }
    const revokedBearer = { authorization: `Bearer ${other.key}` }
    expect(await get(b.url, '/api/tags', revokedBearer)).toBe(200)
    let stop = false
    const load = Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const seen: number[] = []
      while (!stop) seen.push(await get(i % 2 === 0 ? a.url : b.url, '/api/tags', revokedBearer).catch(() => 0))
      return seen
    }))
    try {
      expect((await cli(['key', 'revoke', other.record.id, '--config', configA])).code).toBe(0)
      const after = await Promise.all([a, b, a, b].map((r) => get(r.url, '/api/tags', revokedBearer)))
      expect(after).toEqual([401, 401, 401, 401])
    } finally {
      stop = true
      await load
    }
  })

  it('each replica\'s audit chain verifies after both stop', async () => {
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
    expect(await Promise.all([a.exit, b.exit])).toEqual([0, 0])
    for (const name of ['a', 'b']) {
      const v = await cli(['audit', 'verify', '--config', configA, join(dirAll, 'logs', `${name}.log`)])
      expect(v.code, v.out + v.err).toBe(0)
    }
  })
})
