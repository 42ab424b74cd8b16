// The quota stage of the pipeline (after the rate limit): an identity at or over any of its token
// quotas is refused with 429 before anything reaches Ollama. Counts live in SharedState, so every
// replica sharing Redis (or the database) sees one budget. A count that cannot be read refuses the
// request (503): never unmetered. Requests already in flight finish and are counted when they end,
// so a budget can be overrun by at most what those requests use.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { retryAfterSeconds, type Clock } from '../clock.js'
import type { QuotaRuleConfig } from '../config/schema.js'
import { errors } from '../errors.js'
import type { SharedState } from '../cluster-state/types.js'
import type { UsageMeter } from './meter.js'
import { counterKey, firstExceeded, limitsFor, meteredOf, periodWindow, QUOTA_PERIODS, quotaMessage, type QuotaPeriod } from './rules.js'

export interface QuotaGuardDeps {
  counters: Pick<SharedState, 'add'>
  rules: readonly QuotaRuleConfig[]
  clock: Clock
  observe?: { quotaRejected?: (period: QuotaPeriod) => void }
  /** starts metering a request the guard let through, and settles additions a failed write kept (meter.ts) */
  meter?: UsageMeter
}

export function createQuotaGuard (deps: QuotaGuardDeps): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function quota (request, reply) {
    const identity = request.gh?.identity
    const route = request.gh?.route
    if (!identity || !route) throw new errors.AUTH_REQUIRED()
    // only requests that make a model write tokens are held to a token budget
    const who = meteredOf(identity)
    const limits = route.permission === 'inference' ? limitsFor(deps.rules, who) : []
    if (limits.length > 0) {
      const now = deps.clock.now()
      const used: Record<QuotaPeriod, number> = { day: 0, month: 0 }
      const windows = { day: periodWindow('day', now), month: periodWindow('month', now) }
      try {
        // tokens a failed write left over count first: the totals must be whole before they are judged
        if (deps.meter !== undefined && !(await deps.meter.settle())) throw new Error('tokens from an earlier request are not added yet')
        for (const p of QUOTA_PERIODS) {
          if (!limits.some((l) => l.period === p)) continue
          used[p] = await deps.counters.add(counterKey(who, p, windows[p]), 0, windows[p].end, now)
        }
      } catch (err) {
        request.log.error({ err }, 'quota: the token counters cannot be read; request refused')
        request.gh.decision = 'deny'
        request.gh.reason = 'quota:unavailable'
        throw new errors.QUOTA_UNAVAILABLE()
      }
      const hit = firstExceeded(limits, used)
      if (hit !== null) {
        const resetsAt = windows[hit.period].end
        deps.observe?.quotaRejected?.(hit.period)
        request.gh.decision = 'deny'
        request.gh.reason = `quota:${hit.period}`
        reply.header('retry-after', String(retryAfterSeconds(resetsAt, now)))
        throw new errors.QUOTA_EXCEEDED(quotaMessage(hit, resetsAt))
      }
    }
    deps.meter?.(request, reply)
  }
}
