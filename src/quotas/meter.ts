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
function usageRecordOf (request: FastifyRequest, status: number, finished: boolean, at: number): UsageRecord | null {
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

/** Starts metering a request the quota stage let through; `settle` adds any tokens kept from a failed write. */
export interface UsageMeter {
  (request: FastifyRequest, reply: FastifyReply): void
  /**
   * Adds the tokens a failed write left over (oldest first). False while any is still not added: the
   * quota stage then refuses instead of serving traffic its counters do not see.
   */
  settle: () => Promise<boolean>
}

/** additions kept after a failed write, at most this many (beyond it the stage refuses anyway) */
const MAX_UNSETTLED = 10_000

export function createUsageMeter (deps: UsageMeterDeps): UsageMeter {
  const unsettled: Array<{ key: string, tokens: number, end: number }> = []
  const settle = async (): Promise<boolean> => {
    while (unsettled.length > 0) {
      const first = unsettled[0] as { key: string, tokens: number, end: number }
      try {
        await deps.counters.add(first.key, first.tokens, first.end, deps.clock.now())
      } catch {
        return false
      }
      unsettled.shift()
    }
    return true
  }
  const account = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const now = deps.clock.now()
    const record = usageRecordOf(request, reply.raw.statusCode, reply.raw.writableFinished, now)
    if (record === null) return
    deps.writer.add(record)
    const tokens = record.inputTokens + record.outputTokens
    if (tokens === 0) return
    const who = meteredOf(request.gh.identity as NonNullable<typeof request.gh.identity>)
    let failed: unknown = null
    for (const p of QUOTA_PERIODS) {
      const w = periodWindow(p, now)
      const key = counterKey(who, p, w)
      try {
        await deps.counters.add(key, tokens, w.end, now)
      } catch (err) {
        // kept, and added before the next quota check; until then that check refuses
        if (unsettled.length < MAX_UNSETTLED) unsettled.push({ key, tokens, end: w.end })
        failed = err
      }
    }
    if (failed !== null) throw failed
  }
  const meter = function meter (request: FastifyRequest, reply: FastifyReply): void {
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
  return Object.assign(meter, { settle })
}
