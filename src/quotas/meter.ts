// Counting what a request used, once it has ended (finished, failed, or abandoned by the client):
// its tokens go to the identity's day and month counters (the quota guard reads them) and one
// usage record goes to the buffered writer. A request that never reached Ollama is not counted.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../clock.js'
import type { SharedState } from '../cluster-state/types.js'
import type { UsageRecord } from '../store/types.js'
import { counterKey, meteredOf, periodWindow, QUOTA_PERIODS } from './rules.js'

export interface UsageMeterDeps {
  counters: Pick<SharedState, 'add'>
  writer: { add: (r: UsageRecord) => void }
  clock: Clock
  onError?: (err: unknown) => void
}

/** The usage record of an ended request, or null when it never reached Ollama. */
export function usageRecordOf (request: FastifyRequest, status: number, finished: boolean, at: number): UsageRecord | null {
  const ctx = request.gh
  if (!ctx?.identity || ctx.upstream === null) return null
  const { input, output } = ctx.usage
  // an inference reply that ended without its final counts, or was cut short, is flagged
  const incomplete = ctx.route?.permission === 'inference' && (!finished || ctx.clientClosed || (input === null && output === null))
  return {
    at,
    identity: ctx.identity.name,
    credential: meteredOf(ctx.identity).credential,
    role: ctx.identity.roles.join(','),
    model: ctx.models[0] ?? null,
    upstream: ctx.upstream,
    inputTokens: input ?? 0,
    // cut short before its closing counts: the frames it streamed (a token each), so leaving early is never free
    outputTokens: output ?? (incomplete ? ctx.usage.frames ?? 0 : 0),
    durationMs: Math.round(Number(process.hrtime.bigint() - ctx.startedAt) / 1e6),
    status,
    incomplete
  }
}

export function createUsageMeter (deps: UsageMeterDeps): (request: FastifyRequest, reply: FastifyReply) => void {
  const account = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const now = deps.clock.now()
    const record = usageRecordOf(request, reply.raw.statusCode, reply.raw.writableFinished, now)
    if (record === null) return
    deps.writer.add(record)
    const tokens = record.inputTokens + record.outputTokens
    if (tokens === 0) return
    const who = meteredOf(request.gh.identity as NonNullable<typeof request.gh.identity>)
    for (const p of QUOTA_PERIODS) {
      const w = periodWindow(p, now)
      await deps.counters.add(counterKey(who, p, w), tokens, w.end, now)
    }
  }
  return function meter (request, reply) {
    let once = false
    const done = (): void => {
      if (once) return
      once = true
      account(request, reply).catch((err: unknown) => { deps.onError?.(err) })
    }
    // 'close' fires once the reply has ended or the client has gone, whichever comes first
    if (reply.raw.closed) done()
    else reply.raw.once('close', done)
  }
}
