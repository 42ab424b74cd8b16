// A fake Ollama written from its documented wire format: NDJSON on /api/* with a final `done`
// line and its counters, SSE on /v1/* ending in `data: [DONE]`, `{"error":…}` with 404 for an
// unknown model, and "Ollama is running" on /. Tests script what it says, how the bytes are split
// on the wire, and when each piece goes out, and read back what it received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
  json: Record<string, unknown> | null
}

export interface Script {
  /** the text the model "writes", as tokens: one NDJSON line / SSE event each */
  tokens: string[]
  /** thinking tokens sent before the answer (generate: `thinking`, chat: message.thinking) */
  thinking: string[]
  /** models the server has (names as Ollama lists them) */
  models: string[]
  /** when set, the raw bytes of the streamed reply are re-cut at these byte offsets (adversarial chunking) */
  splitAt: ((body: Buffer) => number[]) | null
  /** awaited before each chunk is written; lets a test hold the stream in lock step */
  beforeChunk: ((index: number) => Promise<void>) | null
  /** wait this long before sending headers */
  delayHeadersMs: number
  /** awaited before the headers are sent; lets a test hold a request until it has seen what it needs */
  beforeHeaders?: (() => Promise<void>) | null
  /** after writing this many chunks, stop: 'hang' (send nothing more) or 'destroy' (reset the socket) */
  stopAfter: { chunks: number, how: 'hang' | 'destroy' } | null
  /** reply with an HTTP error instead */
  fail: { status: number, error: string } | null
  /** reply with these bytes verbatim, status 200, whatever was asked (e.g. a body a masker cannot read) */
  rawReply?: { contentType: string, body: string } | null
  promptTokens: number
  /** models /api/ps lists as loaded; by default the first two of `models` */
  loaded?: string[] | null
}

export const defaultScript = (): Script => ({
  tokens: ['Hello', ', ', 'world', '!'],
  thinking: [],
  models: ['llama3.2:latest', 'qwen2.5:7b', 'secret-model:latest', 'nomic-embed-text:latest'],
  splitAt: null,
  beforeChunk: null,
  delayHeadersMs: 0,
  stopAfter: null,
  fail: null,
  promptTokens: 7
})

export interface FakeOllama {
  url: string
  port: number
  script: Script
  received: ReceivedRequest[]
  /** number of upstream requests whose connection closed before the reply finished */
  abortedRequests: () => number
  /** the streamed reply being written last: chunks written so far, and whether the socket is full (as Ollama, it waits for it to drain) */
  streamProgress: () => { written: number, total: number, waitingForDrain: boolean }
  /** resolves when the n-th request (1-based) has closed early */
  waitForAbort: (timeoutMs?: number) => Promise<void>
  reset: () => void
  close: () => Promise<void>
}

const created = '2026-11-26T10:00:00.000000Z'

function ndjsonLines (path: string, model: string, s: Script): string[] {
  const lines: string[] = []
  const isChat = path === '/api/chat'
  for (const t of s.thinking) {
    lines.push(JSON.stringify(isChat
      ? { model, created_at: created, message: { role: 'assistant', content: '', thinking: t }, done: false }
      : { model, created_at: created, response: '', thinking: t, done: false }))
  }
  for (const t of s.tokens) {
    lines.push(JSON.stringify(isChat
      ? { model, created_at: created, message: { role: 'assistant', content: t }, done: false }
      : { model, created_at: created, response: t, done: false }))
  }
  const counters = {
    done_reason: 'stop', total_duration: 123456789, load_duration: 1234567, prompt_eval_count: s.promptTokens,
    prompt_eval_duration: 2345678, eval_count: s.tokens.length, eval_duration: 3456789
  }
  lines.push(JSON.stringify(isChat
    ? { model, created_at: created, message: { role: 'assistant', content: '' }, done: true, ...counters }
    : { model, created_at: created, response: '', done: true, context: [1, 2, 3], ...counters }))
  return lines.map((l) => l + '\n')
}

function sseEvents (path: string, model: string, s: Script, includeUsage = false): string[] {
  const id = 'chatcmpl-42'
  const chat = path === '/v1/chat/completions'
  const events = s.tokens.map((t, i) => JSON.stringify(chat
    ? { id, object: 'chat.completion.chunk', created: 1764151200, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, delta: { role: 'assistant', content: t }, finish_reason: null }] }
    : { id: 'cmpl-42', object: 'text_completion', created: 1764151200, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, text: t, finish_reason: null }] }) + (i < 0 ? '' : ''))
  events.push(JSON.stringify(chat
    ? { id, object: 'chat.completion.chunk', created: 1764151200, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }] }
    : { id: 'cmpl-42', object: 'text_completion', created: 1764151200, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, text: '', finish_reason: 'stop' }] }))
  // stream_options.include_usage: one more chunk with no choices and the counts, as Ollama sends it
  if (includeUsage) {
    events.push(JSON.stringify({ id: chat ? id : 'cmpl-42', object: chat ? 'chat.completion.chunk' : 'text_completion', created: 1764151200, model,
      system_fingerprint: 'fp_ollama', choices: [],
      usage: { prompt_tokens: s.promptTokens, completion_tokens: s.tokens.length, total_tokens: s.promptTokens + s.tokens.length } }))
  }
  return [...events.map((e) => `data: ${e}\n\n`), 'data: [DONE]\n\n']
}

function wholeReply (path: string, model: string, s: Script): Record<string, unknown> {
  const text = s.tokens.join('')
  const thinking = s.thinking.join('')
  const counters = {
    done_reason: 'stop', total_duration: 123456789, load_duration: 1234567, prompt_eval_count: s.promptTokens,
    prompt_eval_duration: 2345678, eval_count: s.tokens.length, eval_duration: 3456789
  }
  switch (path) {
    case '/api/generate': return { model, created_at: created, response: text, ...(thinking ? { thinking } : {}), done: true, context: [1, 2, 3], ...counters }
    case '/api/chat': return { model, created_at: created, message: { role: 'assistant', content: text, ...(thinking ? { thinking } : {}) }, done: true, ...counters }
    case '/v1/chat/completions': return {
      id: 'chatcmpl-42', object: 'chat.completion', created: 1764151200, model, system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: s.promptTokens, completion_tokens: s.tokens.length, total_tokens: s.promptTokens + s.tokens.length }
    }
    default: return {
      id: 'cmpl-42', object: 'text_completion', created: 1764151200, model, system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, text, finish_reason: 'stop' }],
      usage: { prompt_tokens: s.promptTokens, completion_tokens: s.tokens.length, total_tokens: s.promptTokens + s.tokens.length }
    }
  }
}

const canonical = (m: string) => (m.includes(':') ? m : m + ':latest')
// a slow Ollama is part of some scenarios (script.delayHeadersMs); tests never wait on it
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fake Ollama on `port` (a restarted host takes its old port), else on a free one. */
export async function startFakeOllama (opts: { port?: number } = {}): Promise<FakeOllama> {
  let script = defaultScript()
  const received: ReceivedRequest[] = []
  let aborted = 0
  let abortWaiters: Array<() => void> = []
  let lastStream = { written: 0, total: 0, waitingForDrain: false }

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const data = Buffer.from(JSON.stringify(body))
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length })
    res.end(data)
  }

  async function stream (req: IncomingMessage, res: ServerResponse, contentType: string, pieces: string[]): Promise<void> {
    let chunks: Buffer[] = pieces.map((p) => Buffer.from(p))
    if (script.splitAt) {
      const all = Buffer.concat(chunks)
      const cuts = [...new Set(script.splitAt(all))].filter((c) => c > 0 && c < all.length).sort((a, b) => a - b)
      chunks = []
      let prev = 0
      for (const c of [...cuts, all.length]) { chunks.push(all.subarray(prev, c)); prev = c }
    }
    const progress = { written: 0, total: chunks.length, waitingForDrain: false }
    lastStream = progress
    res.writeHead(200, { 'content-type': contentType, 'transfer-encoding': 'chunked' })
    res.flushHeaders()
    for (let i = 0; i < chunks.length; i++) {
      if (script.stopAfter && i === script.stopAfter.chunks) {
        if (script.stopAfter.how === 'destroy') req.socket.destroy()
        return // 'hang': leave the response open
      }
      if (script.beforeChunk) await script.beforeChunk(i)
      if (res.destroyed) return
      const full = !res.write(chunks[i])
      progress.written = i + 1
      if (full) {
        progress.waitingForDrain = true
        await new Promise<void>((resolve) => {
          const go = (): void => { res.off('drain', go); res.off('close', go); resolve() }
          res.on('drain', go)
          res.on('close', go)
        })
        progress.waitingForDrain = false
      }
    }
    res.end()
  }

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => { void handle(req, res, Buffer.concat(parts)) })
    res.on('close', () => {
      if (!res.writableFinished) {
        aborted++
        const w = abortWaiters
        abortWaiters = []
        for (const fn of w) fn()
      }
    })
  })

  async function handle (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    let json: Record<string, unknown> | null
    try { json = body.length ? JSON.parse(body.toString('utf8')) as Record<string, unknown> : null } catch { json = null }
    const url = req.url ?? '/'
    received.push({ method: req.method ?? '', url, headers: req.headers, body, json })
    const s = script
    if (s.delayHeadersMs > 0) await sleep(s.delayHeadersMs)
    if (s.beforeHeaders) await s.beforeHeaders()
    if (s.fail) return send(res, s.fail.status, { error: s.fail.error })
    if (s.rawReply) {
      const data = Buffer.from(s.rawReply.body)
      res.writeHead(200, { 'content-type': s.rawReply.contentType, 'content-length': data.length })
      return void res.end(data)
    }
    const path = url.split('?')[0] as string
    const model = typeof json?.model === 'string' ? json.model : typeof json?.name === 'string' ? json.name : ''
    const known = (m: string) => s.models.includes(canonical(m))
    const needsModel = ['/api/generate', '/api/chat', '/api/embed', '/api/embeddings', '/api/show', '/v1/chat/completions', '/v1/completions', '/v1/embeddings']
    if (needsModel.includes(path) && !known(model)) {
      if (path.startsWith('/v1/')) return send(res, 404, { error: { message: `model "${model}" not found, try pulling it first`, type: 'api_error', param: null, code: null } })
      return send(res, 404, { error: `model '${model}' not found` })
    }
    const streamed = path.startsWith('/v1/') ? json?.stream === true : json?.stream !== false
    switch (`${req.method} ${path}`) {
      case 'GET /': case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        return void res.end(req.method === 'HEAD' ? undefined : 'Ollama is running')
      case 'GET /api/version': return send(res, 200, { version: '0.12.6' })
      case 'GET /api/tags': return send(res, 200, {
        models: s.models.map((m) => ({ name: m, model: m, modified_at: created, size: 2019393189, digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', details: { format: 'gguf', family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' } }))
      })
      case 'GET /api/ps': return send(res, 200, {
        models: (s.loaded ?? s.models.slice(0, 2)).map((m) => ({ name: m, model: m, size: 5137025024, digest: 'a80c4f17acd5', expires_at: '2026-11-26T11:00:00Z', size_vram: 5137025024 }))
      })
      case 'GET /v1/models': return send(res, 200, { object: 'list', data: s.models.map((m) => ({ id: m, object: 'model', created: 1764151200, owned_by: 'library' })) })
      case 'POST /api/show': return send(res, 200, { modelfile: '# Modelfile', parameters: 'stop "<|eot_id|>"', template: '{{ .Prompt }}', details: { format: 'gguf', family: 'llama' }, model_info: { 'general.architecture': 'llama' }, capabilities: ['completion'] })
      case 'POST /api/embed': return send(res, 200, { model, embeddings: [[0.010071029, -0.0017594862, 0.05007221]], total_duration: 14143917, load_duration: 1019500, prompt_eval_count: 8 })
      case 'POST /api/embeddings': return send(res, 200, { embedding: [0.5670403838157654, 0.009260174818336964, 0.23178744316101074] })
      case 'POST /v1/embeddings': {
        const vector = [0.010071029, -0.0017594862]
        // Ollama honours encoding_format "base64" (little-endian float32), which the OpenAI SDK asks for by default
        const embedding = json?.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
        return send(res, 200, { object: 'list', data: [{ object: 'embedding', embedding, index: 0 }], model, usage: { prompt_tokens: 8, total_tokens: 8 } })
      }
      case 'POST /api/generate': case 'POST /api/chat':
        if (!streamed) return send(res, 200, wholeReply(path, model, s))
        return stream(req, res, 'application/x-ndjson', ndjsonLines(path, model, s))
      case 'POST /v1/chat/completions': case 'POST /v1/completions':
        if (!streamed) return send(res, 200, wholeReply(path, model, s))
        return stream(req, res, 'text/event-stream', sseEvents(path, model, s,
          (json?.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true))
      case 'POST /api/pull': case 'POST /api/push': case 'POST /api/create':
        if (json?.stream === false) return send(res, 200, { status: 'success' })
        return stream(req, res, 'application/x-ndjson', ['{"status":"pulling manifest"}\n', '{"status":"verifying sha256 digest"}\n', '{"status":"success"}\n'])
      case 'POST /api/copy': case 'DELETE /api/delete':
        res.writeHead(200)
        return void res.end()
      default: {
        const v1model = /^\/v1\/models\/(.+)$/.exec(path)
        if (req.method === 'GET' && v1model) {
          const id = decodeURIComponent(v1model[1] as string)
          if (!known(id)) return send(res, 404, { error: { message: `model "${id}" not found`, type: 'api_error', param: null, code: null } })
          return send(res, 200, { id, object: 'model', created: 1764151200, owned_by: 'library' })
        }
        if (/^\/api\/blobs\/sha256:[0-9a-f]{64}$/.test(path)) { res.writeHead(req.method === 'POST' ? 201 : 200); return void res.end() }
        return send(res, 404, { error: '404 page not found' })
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const fake: FakeOllama = {
    url: `http://127.0.0.1:${port}`,
    port,
    get script () { return script },
    set script (s: Script) { script = s },
    received,
    abortedRequests: () => aborted,
    streamProgress: () => ({ ...lastStream }),
    waitForAbort: (timeoutMs = 5000) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('upstream request was not aborted')), timeoutMs)
      abortWaiters.push(() => { clearTimeout(t); resolve() })
    }),
    reset: () => { script = defaultScript(); received.length = 0; aborted = 0 },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
  return fake
}
