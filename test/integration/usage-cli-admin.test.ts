// The usage reports and key rotation from the command line and the admin API: shapes of the JSON
// and CSV, the exit codes of bad flags, and the admin routes' schemas and access rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { cli, tempConfig } from '../helpers/cli.js'
import { createStore } from '../../src/store/index.js'
import type { UsageRecord } from '../../src/store/types.js'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'

const DAY = 86_400_000
const lines = (t: string) => t.replace(/\n$/, '').split('\n')

describe('gatehouse usage and key rotate', () => {
  const { dir, file } = tempConfig({ quotas: { rules: [{ role: 'user', tokensPerDay: 1000 }, { key: 'ci-bot', tokensPerMonth: 50 }] } })
  const run = async (...args: string[]) => await cli([...args, '--config', file])
  const rec = (over: Partial<UsageRecord>): UsageRecord => ({
    at: Date.now() - 1000, identity: 'alice', credential: 'session', role: 'user', model: 'llama3.2:latest', upstream: 'default',
    inputTokens: 7, outputTokens: 4, durationMs: 5, status: 200, incomplete: false, ...over
  })

  beforeAll(async () => {
    expect((await run('user', 'add', 'alice', '--role', 'user')).code).toBe(0)
    expect((await run('key', 'create', '--name', 'ci-bot', '--role', 'user')).code).toBe(0)
    const store = await createStore(`sqlite:${join(dir, 'data', 'gatehouse.db')}`)
    try {
      await store.insertUsage([
        rec({}),
        rec({ inputTokens: 3, outputTokens: 1, model: 'qwen2.5:7b' }),
        rec({ identity: 'ci-bot', credential: 'api_key', inputTokens: 20, outputTokens: 10 }),
        rec({ at: Date.now() - 40 * DAY, inputTokens: 1000 })
      ])
    } finally { await store.close() }
  }, 30_000)

  it('report --json sums by user over the last 30 days by default', async () => {
    const r = await run('usage', 'report', '--json')
    expect(r.code).toBe(0)
    const report = r.json() as Record<string, unknown>
    expect(report).toMatchObject({
      by: 'user',
      rows: [{ name: 'alice', requests: 2, inputTokens: 10, outputTokens: 5, totalTokens: 15 }],
      total: { requests: 2, inputTokens: 10, outputTokens: 5, totalTokens: 15 }
    })
    expect(report.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const longer = (await run('usage', 'report', '--json', '--since', '60d')).json() as { total: { inputTokens: number } }
    expect(longer.total.inputTokens).toBe(1010)
  })

  it('report --csv has a header and one line per group', async () => {
    const r = await run('usage', 'report', '--csv', '--by', 'model')
    expect(r.code).toBe(0)
    expect(lines(r.out)).toEqual([
      'model,requests,input_tokens,output_tokens,total_tokens',
      'llama3.2:latest,2,27,14,41',
      'qwen2.5:7b,1,3,1,4'
    ])
    expect(lines((await run('usage', 'report', '--csv', '--by', 'key')).out)).toEqual([
      'key,requests,input_tokens,output_tokens,total_tokens', 'ci-bot,1,20,10,30'
    ])
    expect(lines((await run('usage', 'report', '--csv', '--by', 'day')).out)[1]).toMatch(/^\d{4}-\d\d-\d\d,3,30,15,45$/)
  })

  it('bad --since or --by exit 2 naming the allowed values', async () => {
    const by = await run('usage', 'report', '--by', 'team')
    expect(by.code).toBe(2)
    expect(by.err).toContain('--by "team" is not one of user, key, model, upstream, day')
    const since = await run('usage', 'report', '--since', 'forever')
    expect(since.code).toBe(2)
    expect(since.err).toContain('--since "forever" is not a period such as 30d, 12h, 2w or 90m')
    expect((await run('usage', 'report', '--json', '--csv')).code).toBe(2)
    expect((await run('usage', 'report', '--grace', '1h')).code).toBe(2)
  })

  it('quota NAME shows a user\'s or a key\'s use against each quota; an unknown name exits 1', async () => {
    const u = await run('usage', 'quota', 'Alice', '--json')
    expect(u.code).toBe(0)
    expect(u.json()).toMatchObject({
      name: 'alice', kind: 'user', roles: ['user'], used: { day: 15, month: 15 },
      quotas: [{ period: 'day', tokens: 1000, subject: 'role user', used: 15, remaining: 985 }]
    })
    const k = await run('usage', 'quota', 'ci-bot', '--json')
    expect(k.json()).toMatchObject({
      kind: 'key',
      quotas: [{ period: 'day', subject: 'role user', used: 30 }, { period: 'month', tokens: 50, subject: 'key ci-bot', used: 30, remaining: 20 }]
    })
    expect((await run('usage', 'quota', 'ci-bot')).out).toContain('key ci-bot')
    expect((await run('usage', 'quota', 'nobody')).code).toBe(1)
  })

  it('key rotate prints the new key once and key list shows both, the old one with its end of grace', async () => {
    const listed = (await run('key', 'list', '--json')).json() as { keys: Array<{ id: string, name: string }> }
    const id = listed.keys.find((k) => k.name === 'ci-bot')?.id as string
    const r = await run('key', 'rotate', id, '--grace', '2h', '--json')
    expect(r.code).toBe(0)
    const out = r.json() as { key: string, record: { name: string, id: string }, previous: { id: string, graceUntil: number } }
    expect(out.key).toMatch(/^ghk_/)
    expect(out.record.name).toBe('ci-bot')
    expect(out.previous.graceUntil).toBeGreaterThan(Date.now() + 2 * 3_600_000 - 60_000)
    const after = (await run('key', 'list')).out
    expect(after).toContain('GRACE_UNTIL')
    expect(after).toContain(new Date(out.previous.graceUntil).toISOString())
    expect((await run('key', 'rotate', id)).code).toBe(2)
    expect((await run('key', 'rotate', out.record.id, '--grace', 'soon')).code).toBe(2)
  })
})

describe('/admin/usage and /admin/keys/:id/rotate', () => {
  let gw: TestGateway
  let session: string
  const PASSWORD = 'violet-harbor-cinnamon-42'
  beforeAll(async () => {
    gw = await startTestGateway()
    await gw.gateway.auth.userAdmin.addUser('root-admin', 'admin', PASSWORD)
    session = (await loginWithMfa(gw, 'root-admin', PASSWORD)).token
    await gw.gateway.store.insertUsage([{ at: Date.now(), identity: 'bob', credential: 'session', role: 'user', model: 'm:latest',
      upstream: 'default', inputTokens: 2, outputTokens: 3, durationMs: 1, status: 200, incomplete: false }])
  }, 30_000)
  afterAll(async () => { await gw?.close() })
  const asAdmin = (extra: Record<string, string> = {}) => ({ anonymous: true, headers: { authorization: `Bearer ${session}`, ...extra } })

  it('GET /admin/usage sums by the query, which is checked by schema', async () => {
    const r = await call(gw, 'GET', '/admin/usage?since=7d&by=user', asAdmin())
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ by: 'user', rows: [{ name: 'bob', requests: 1, inputTokens: 2, outputTokens: 3, totalTokens: 5 }] })
    expect((await call(gw, 'GET', '/admin/usage', asAdmin())).json).toMatchObject({ by: 'user' })
    expect((await call(gw, 'GET', '/admin/usage?by=team', asAdmin())).status).toBe(400)
    expect((await call(gw, 'GET', '/admin/usage?since=forever', asAdmin())).status).toBe(400)
    expect((await call(gw, 'GET', '/admin/usage?color=red', asAdmin())).status).toBe(400)
    expect((await call(gw, 'GET', '/admin/usage')).status).toBe(403) // an API key: 'sign in'
  })

  it('POST /admin/keys/:id/rotate returns the new key once; unknown fields are refused', async () => {
    const created = await gw.gateway.auth.userAdmin.createKey({ name: 'svc', role: 'user', expiresIn: '30d' })
    const path = `/admin/keys/${created.record.id}/rotate`
    const json = { 'content-type': 'application/json', origin: gw.url }
    expect((await call(gw, 'POST', path, { ...asAdmin(json), body: '{"grace":"1h","x":1}' })).status).toBe(400)
    const r = await call(gw, 'POST', path, { ...asAdmin(json), body: '{"grace":"24h"}' })
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({ key: expect.stringMatching(/^ghk_/), record: { name: 'svc', role: 'user' }, previous: { id: created.record.id } })
    const res = await call(gw, 'POST', '/api/generate', {
      headers: { authorization: `Bearer ${(r.json as { key: string }).key}`, 'content-type': 'application/json' },
      body: '{"model":"llama3.2","prompt":"hi","stream":false}'
    })
    expect(res.status).toBe(200)
    expect((await call(gw, 'POST', path, { body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(403)
  })
})
