// Model management sent to several hosts at once (a pull, create or copy goes to every healthy
// host; a delete or push to every healthy host that has the model). Streamed progress lines from
// all hosts are interleaved as they come, each with an added "upstream" field; the hosts' own
// closing lines are held back and the stream ends with one {"status":"success"} when every host
// succeeded, else one {"error":…} naming the hosts that failed. A client that hangs up aborts every
// host's request.
import { PassThrough } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../errors.js'
import { createLineSplitter } from '../ollama/framing.js'
import { isObj } from '../ollama/json-object.js'
import type { ProxiedRoute } from '../ollama/routes.js'
import { clientReplyHeaders } from './headers.js'
import { clientGone, framingOf, MAX_JSON_REPLY_BYTES, sendUpstream, type ReplyStages } from './stages.js'
import type { HostLease } from './target.js'
import { isUpstreamTimeout } from './upstream.js'
import { readAll, type UpstreamReply } from './upstream-call.js'

type Answer = { host: HostLease, res: UpstreamReply } | { host: HostLease, error: string }

/** The message an error reply carries (`{"error":"…"}`), else its status. */
function errorText (status: number, raw: Buffer): string {
  try {
    const doc = JSON.parse(raw.toString('utf8')) as unknown
    if (isObj(doc) && typeof doc.error === 'string') return `${doc.error} (${status})`
  } catch { /* not JSON */ }
  return `answered ${status}`
}

const failureSummary = (failed: ReadonlyMap<string, string>): string =>
  `failed on ${[...failed].map(([name, why]) => `${name}: ${why}`).join('; ')}`

export function createFanOut (stages: ReplyStages) {
  return async function fanOut (
    request: FastifyRequest, reply: FastifyReply, hosts: HostLease[], body: Buffer | null, abort: AbortController
  ): Promise<void> {
    const ctx = request.gh
    const route = ctx.route as ProxiedRoute
    ctx.upstream = hosts.map((h) => h.name).join(',')
    ctx.attempts = 1
    const failed = new Map<string, string>()
    const fail = (host: HostLease, why: string, counts: boolean): void => {
      failed.set(host.name, why)
      host.release(counts ? 'failure' : 'success', why)
    }

    const answers: Answer[] = await Promise.all(hosts.map(async (host): Promise<Answer> => {
      try {
        const res = await sendUpstream(host.upstream, route, request, body, abort.signal)
        return { host, res }
      } catch (err) {
        return { host, error: isUpstreamTimeout(err) ? 'timed out' : 'unavailable' }
      }
    }))
    if (abort.signal.aborted) {
      for (const a of answers) { if ('res' in a) a.res.body.destroy(); a.host.release('neutral') }
      return clientGone(request, reply, stages)
    }

    const streaming = answers.some((a) => 'res' in a && a.res.statusCode < 400 && framingOf(a.res.headers['content-type']) === 'ndjson')
    if (!streaming) return whole(request, reply, answers, failed, fail, abort)

    // streamed progress: each host's lines as they come, tagged with the host's name
    const out = new PassThrough()
    let ended = false
    const finish = (): void => {
      if (ended) return
      ended = true
      const status = failed.size === 0 ? 200 : 502
      stages.beforeEnd(request, status).then(
        () => out.end(JSON.stringify(failed.size === 0 ? { status: 'success' } : { error: failureSummary(failed) }) + '\n'),
        (err: unknown) => out.end(JSON.stringify({ error: (err as Error).message }) + '\n')
      )
    }
    out.once('close', () => {
      if (ended) return
      ended = true
      abort.abort()
      stages.clientClosed?.(request, 200)
    })
    let open = answers.length
    const done = (): void => { if (--open === 0) finish() }
    for (const a of answers) {
      if ('error' in a) { fail(a.host, a.error, true); done(); continue }
      const { host, res } = a
      if (res.statusCode >= 400 || framingOf(res.headers['content-type']) !== 'ndjson') {
        readAll(res.body, MAX_JSON_REPLY_BYTES).then((raw) => {
          if (res.statusCode >= 400) fail(host, errorText(res.statusCode, raw), res.statusCode >= 500)
          else host.release('success')
        }, () => fail(host, 'reply cut short', true)).finally(done)
        continue
      }
      const lines = createLineSplitter()
      let succeeded = false
      let why: string | null = null
      const onLine = (line: string): void => {
        if (line.trim() === '') return
        let doc: unknown
        try { doc = JSON.parse(line) } catch { why = 'sent a line that is not JSON'; return }
        if (!isObj(doc)) return
        if (typeof doc.error === 'string') { why = doc.error; return }
        if (doc.status === 'success') { succeeded = true; return }
        if (!ended) out.write(JSON.stringify({ ...doc, upstream: host.name }) + '\n')
      }
      res.body.consume({
        data: (chunk) => {
          try { for (const l of lines.push(chunk)) onLine(l) } catch {
            // a line past the frame bound: this host's request stops here, as a failure
            res.body.destroy()
            fail(host, 'sent a line that is too long', true)
            done()
          }
        },
        end: () => {
          // push() already refused a line past the bound, so the last one is within it
          const last = lines.end()
          if (last !== null) onLine(last)
          if (succeeded && why === null) host.release('success')
          else fail(host, why ?? 'ended without success', false)
          done()
        },
        error: () => {
          if (!abort.signal.aborted) fail(host, 'failed mid-stream', true)
          else host.release('neutral')
          done()
        }
      })
    }
    reply.code(200).header('content-type', 'application/x-ndjson')
    return reply.send(out)
  }

  /** Replies that are whole (copy, delete, blobs, stream:false): all of them are read, then one answer. */
  async function whole (
    request: FastifyRequest, reply: FastifyReply, answers: Answer[], failed: Map<string, string>,
    fail: (host: HostLease, why: string, counts: boolean) => void, abort: AbortController
  ): Promise<void> {
    const read = await Promise.all(answers.map(async (a) => {
      if ('error' in a) { fail(a.host, a.error, true); return null }
      try {
        const raw = a.res.statusCode >= 400 || request.method !== 'HEAD'
          ? await readAll(a.res.body, MAX_JSON_REPLY_BYTES)
          : (await a.res.body.dump(), Buffer.alloc(0))
        if (a.res.statusCode >= 400) fail(a.host, errorText(a.res.statusCode, raw), a.res.statusCode >= 500)
        else a.host.release('success')
        return { status: a.res.statusCode, headers: a.res.headers, raw }
      } catch {
        fail(a.host, 'reply cut short', !abort.signal.aborted)
        return null
      }
    }))
    if (abort.signal.aborted) return clientGone(request, reply, stages)
    const first = read.find((r) => r !== null && r.status < 400)
    if (failed.size === 0 && first != null) {
      await stages.beforeEnd(request, first.status)
      reply.code(first.status).headers(clientReplyHeaders(first.headers, request.method !== 'HEAD'))
      if (request.method === 'HEAD') return reply.send()
      return reply.header('content-length', first.raw.length).send(first.raw)
    }
    // a host that refused (4xx) gives its status, as a single host would; otherwise the fleet failed
    const refused = read.find((r) => r !== null && r.status >= 400 && r.status < 500)
    const status = failed.size < answers.length || refused == null ? 502 : refused.status
    const err = new errors.FAN_OUT_FAILED(failureSummary(failed))
    if (status !== 502) Object.defineProperty(err, 'statusCode', { value: status })
    throw err
  }
}
