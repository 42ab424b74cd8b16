// Security: a store (or Redis) that still answers reads but refuses writes must not leave traffic
// unmetered. Tokens the meter could not add are kept and retried before the next quota check; until
// they land, identities held to a quota are refused with 503 (quota:unavailable), never served free.
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createQuotaGuard } from '../../../src/quotas/guard.js'
import { createUsageMeter } from '../../../src/quotas/meter.js'
import { createSharedState } from '../../../src/cluster-state/index.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { manualClock } from '../../helpers/clock.js'
import { eventually } from '../../helpers/eventually.js'

const who = { credential: 'api_key' as const, name: 'bot', roles: ['user'], amr: [], credentialId: 'k', expiresAt: null }

function request () {
  const gh = newRequestContext('r', '127.0.0.1')
  gh.identity = who
  gh.route = { permission: 'inference' } as never
  gh.models = ['llama3.2:latest']
  gh.upstream = 'default'
  gh.usage = { input: 40, output: 60 }
  const raw = Object.assign(new EventEmitter(), { closed: false, statusCode: 200, writableFinished: true })
  const req = { gh, log: { error: () => {} } } as unknown as FastifyRequest
  const reply = { raw, header: () => reply } as unknown as FastifyReply
  return { req, reply, raw }
}

describe('token counters that cannot be written', () => {
  it('refuse the next checks until the tokens the meter kept are added, then count them', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7, 12))
    const state = createSharedState({ backend: 'memory', clock })
    let writesFail = true
    // reads (adding 0) still answer; additions fail while writesFail
    const counters = {
      add: async (key: string, amount: number, end: number, now: number) => {
        if (amount > 0 && writesFail) throw new Error('read-only')
        return await state.add(key, amount, end, now)
      }
    }
    const errors: unknown[] = []
    const meter = createUsageMeter({ counters, writer: { add: () => {} }, clock, onError: (e) => errors.push(e) })
    const guard = createQuotaGuard({ counters, rules: [{ key: 'bot', tokensPerDay: 150 }], clock, meter })
    const serve = async () => {
      const r = request()
      await guard(r.req, r.reply)
      r.raw.closed = true
      r.raw.emit('close')
    }
    await serve() // served; its 100 tokens cannot be added
    await eventually(() => expect(errors.length).toBeGreaterThan(0))
    await expect(serve()).rejects.toMatchObject({ code: 'GH_ERR_QUOTA_UNAVAILABLE' })
    writesFail = false
    await serve() // the kept 100 tokens land first, then this request is let through (100 < 150) and adds 100
    await eventually(async () => expect(await counters.add('probe', 0, clock.now() + 1000, clock.now())).toBe(0))
    // 200 used now: the next check is over the 150 limit
    await eventually(async () => { await expect(serve()).rejects.toMatchObject({ code: 'GH_ERR_QUOTA_EXCEEDED' }) })
  })
})
