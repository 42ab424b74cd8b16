// The quota stage with the manual clock: a limit reached exactly, the UTC day and month rollovers,
// and a total that cannot be read.
import { describe, expect, it } from 'vitest'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createQuotaGuard } from '../../../src/quotas/guard.js'
import { counterKey, periodWindow } from '../../../src/quotas/rules.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { manualClock } from '../../helpers/clock.js'

const who = { credential: 'api_key' as const, name: 'bot', roles: ['user'], amr: [], credentialId: 'k', expiresAt: null }

function request () {
  const gh = newRequestContext('r', '127.0.0.1')
  gh.identity = who
  gh.route = { permission: 'inference' } as never
  const headers: Record<string, string> = {}
  const req = { gh, log: { error: () => {} } } as unknown as FastifyRequest
  const reply = { header: (k: string, v: string) => { headers[k] = v } } as unknown as FastifyReply
  return { req, reply, headers, gh }
}

function setup (rules: Array<Record<string, unknown>>, start: number) {
  const clock = manualClock(start)
  const state = createSharedState({ backend: 'memory', clock })
  const guard = createQuotaGuard({ counters: state, rules, clock })
  const spend = async (n: number) => {
    for (const p of ['day', 'month'] as const) {
      const w = periodWindow(p, clock.now())
      await state.add(counterKey(who, p, w), n, w.end, clock.now())
    }
  }
  const check = async () => {
    const r = request()
    let err: (Error & { code: string, statusCode: number }) | null = null
    try { await guard(r.req, r.reply) } catch (e) { err = e as Error & { code: string, statusCode: number } }
    return { ok: err === null, err, ...r }
  }
  return { clock, spend, check, state }
}

describe('the quota stage', () => {
  it('passes one token below the limit and refuses at it, with Retry-After to the next UTC midnight', async () => {
    const q = setup([{ key: 'bot', tokensPerDay: 100 }], Date.UTC(2026, 11, 7, 23, 0, 0))
    await q.spend(99)
    expect((await q.check()).ok).toBe(true)
    await q.spend(1)
    const refused = await q.check()
    expect(refused.ok).toBe(false)
    expect(refused.err?.code).toBe('GH_ERR_QUOTA_EXCEEDED')
    expect(refused.err?.message).toBe('token quota exceeded: 100 tokens per day (key bot); resets at 2026-12-08T00:00:00Z')
    expect(refused.headers['retry-after']).toBe('3600')
    expect(refused.gh.reason).toBe('quota:day')
    q.clock.advance(3_600_000 - 1)
    expect((await q.check()).ok).toBe(false)
    q.clock.advance(1)
    expect((await q.check()).ok).toBe(true)
  })

  it('a month quota holds across the day rollover and resets on the 1st, UTC', async () => {
    const q = setup([{ role: 'user', tokensPerMonth: 50 }], Date.UTC(2027, 1, 27, 12))
    await q.spend(50)
    q.clock.set(Date.UTC(2027, 1, 28, 23, 59, 59, 999))
    const refused = await q.check()
    expect(refused.gh.reason).toBe('quota:month')
    expect(refused.err?.message).toBe('token quota exceeded: 50 tokens per month (role user); resets at 2027-03-01T00:00:00Z')
    q.clock.advance(1)
    expect((await q.check()).ok).toBe(true)
  })

  it('fails closed: a total that cannot be read is a 503, and an identity without a rule reads nothing', async () => {
    const q = setup([{ key: 'bot', tokensPerDay: 100 }], Date.UTC(2026, 11, 7))
    q.state.add = async () => { throw new Error('down') }
    const r = await q.check()
    expect(r.err?.code).toBe('GH_ERR_QUOTA_UNAVAILABLE')
    expect(r.err?.statusCode).toBe(503)
    expect(r.gh.reason).toBe('quota:unavailable')
    const free = setup([{ key: 'other', tokensPerDay: 1 }], Date.UTC(2026, 11, 7))
    free.state.add = async () => { throw new Error('down') }
    expect((await free.check()).ok).toBe(true)
  })
})
