// Two replicas in two OS processes share one Redis: the per-identity limits hold across them, so a
// client cannot double its quota by spreading requests over replicas.
import { fork, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type BuiltFixture } from '../store/fixtures/build-fixture.js'
import { deletePrefix, findRedis, uniquePrefix } from '../unit/cluster-state/redis-env.js'
import { identityHeader, openStream, send } from '../unit/ops/rate-limit-harness.js'
import { eventually } from '../helpers/eventually.js'

const REPLICA = join(dirname(fileURLToPath(import.meta.url)), '../unit/ops/fixtures/rate-limit-replica.mjs')
const redisUrl = await findRedis()

interface Replica { child: ChildProcess, port: number }

let built: BuiltFixture
const replicas: Replica[] = []
const prefix = uniquePrefix('ops-rate-limit')

function startReplica (limits: { requestsPerMinute: number, concurrentStreams: number }): Promise<Replica> {
  const child = fork(REPLICA, [JSON.stringify({ build: built.dir, redisUrl, prefix, ...limits })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (m: { type: string, port?: number, message?: string }) => {
      if (m.type === 'ready') resolve({ child, port: m.port as number })
      else reject(new Error(m.message))
    })
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)))
  })
}

const endStreams = (r: Replica) => new Promise<void>((resolve) => {
  r.child.once('message', () => resolve())
  r.child.send('end-streams')
})

describe.skipIf(redisUrl === null)('rate limits across two processes sharing Redis', () => {
  beforeAll(async () => {
    built = buildFixture(['test/unit/ops/rate-limit-harness.ts', 'src/cluster-state/index.ts', 'src/clock.ts'])
    replicas.push(...await Promise.all([startReplica({ requestsPerMinute: 6, concurrentStreams: 2 }), startReplica({ requestsPerMinute: 6, concurrentStreams: 2 })]))
  }, 60_000)
  afterAll(async () => {
    for (const r of replicas) {
      r.child.send('quit')
      await new Promise((resolve) => { if (r.child.exitCode !== null) resolve(null); else r.child.once('exit', resolve) })
    }
    built?.remove()
    if (redisUrl) await deletePrefix(redisUrl, prefix)
  })

  it('requests per minute are counted once for both replicas', async () => {
    const [a, b] = replicas as [Replica, Replica]
    const who = identityHeader({ name: 'carol' })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await send(i % 2 === 0 ? a.port : b.port, '/api/embed', who)).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200])
    const refusedA = await send(a.port, '/api/embed', who)
    const refusedB = await send(b.port, '/api/embed', who)
    expect([refusedA.status, refusedB.status]).toEqual([429, 429])
    expect(JSON.parse(refusedB.body)).toEqual({ error: 'rate limit exceeded' })
    expect(Number(refusedB.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // another identity is untouched on either replica
    expect((await send(b.port, '/api/embed', identityHeader({ name: 'dave' }))).status).toBe(200)
  })

  it('concurrent streams are capped across replicas and a slot freed on one is usable on the other', async () => {
    const [a, b] = replicas as [Replica, Replica]
    const who = identityHeader({ name: 'erin', credential: 'api_key', credentialId: 'key-erin' })
    const s1 = await openStream(a.port, '/api/chat', who)
    const s2 = await openStream(b.port, '/api/chat', who)
    expect([s1.status, s2.status]).toEqual([200, 200])
    const third = await send(a.port, '/api/chat', who, { model: 'm' })
    expect(third.status).toBe(429)
    expect(JSON.parse(third.body)).toEqual({ error: 'too many concurrent streams' })
    await endStreams(a)
    expect(await s1.body).toContain('"done":true')
    // the release reaches Redis shortly after the response ends
    await eventually(async () => expect((await openStream(b.port, '/api/chat', who)).status).toBe(200))
    await endStreams(b)
  })
})
