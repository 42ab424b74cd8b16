// A small fake Ollama for the soak: the routes the fleet and the load use (/api/tags, /api/ps,
// /api/version, /api/show, /api/chat as NDJSON or one document, /v1/chat/completions as SSE), with
// replies paced token by token so streams stay open, and text that carries PII for the masker.
// `kill()` drops every connection at once (streams on it are cut mid-way); `start()` listens again
// on the same port; `pace(ms)` changes the time between tokens for the streams that start after it.
import { createServer } from 'node:http'

const MODELS = ['llama3.2:latest', 'qwen2.5:7b']
const CREATED = '2026-11-26T10:00:00.000000Z'
// an e-mail address and a phone number split across tokens: the stream masker must join them
const TOKENS = ['Sure', ', ', 'write ', 'to ', 'jane.', 'doe@exa', 'mple.com', ' or ', 'call ', '+1 415 ', '555 0132', '. ', 'Thanks', '!']

function send (res, status, body) {
  const b = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(b) })
  res.end(b)
}

export function createFakeOllama ({ name, tokenIntervalMs = 150, tokens = 20 }) {
  let server = null
  let port = 0
  const sockets = new Set()
  const stats = { requests: 0, streams: 0 }
  const words = Array.from({ length: tokens }, (_, i) => TOKENS[i % TOKENS.length])

  async function streamOut (req, res, lines, done) {
    const timers = []
    let closed = false
    res.on('close', () => { closed = true; for (const t of timers) clearTimeout(t) })
    for (const line of lines) {
      if (closed) return
      await new Promise((resolve) => { timers.push(setTimeout(resolve, tokenIntervalMs)) })
      if (closed) return
      res.write(line)
    }
    if (!closed) res.end(done)
  }

  function handle (req, res) {
    stats.requests++
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      let body
      try { body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {} } catch { body = {} }
      const model = typeof body.model === 'string' ? body.model : MODELS[0]
      const path = (req.url ?? '/').split('?')[0]
      if (req.method === 'GET' && path === '/') { res.writeHead(200); return res.end('Ollama is running') }
      if (path === '/api/version') return send(res, 200, { version: '0.12.0' })
      if (path === '/api/tags') return send(res, 200, { models: MODELS.map((m) => ({ name: m, model: m, modified_at: CREATED, size: 1, digest: 'sha256:' + '0'.repeat(64), details: {} })) })
      if (path === '/api/ps') return send(res, 200, { models: [{ name: MODELS[0], model: MODELS[0], size: 1, digest: 'sha256:' + '0'.repeat(64), details: {}, expires_at: CREATED, size_vram: 1 }] })
      if (path === '/v1/models') return send(res, 200, { object: 'list', data: MODELS.map((m) => ({ id: m, object: 'model', created: 1764151200, owned_by: 'library' })) })
      if (path === '/api/show') return send(res, 200, { modelfile: '', parameters: '', template: '', details: { family: 'llama' }, model_info: {}, capabilities: ['completion'] })
      if (path === '/api/chat') {
        const counters = { done_reason: 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 7, prompt_eval_duration: 1, eval_count: words.length, eval_duration: 1 }
        if (body.stream === false) {
          return send(res, 200, { model, created_at: CREATED, message: { role: 'assistant', content: words.join('') }, done: true, ...counters })
        }
        stats.streams++
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        const lines = words.map((t) => JSON.stringify({ model, created_at: CREATED, message: { role: 'assistant', content: t }, done: false }) + '\n')
        return void streamOut(req, res, lines, JSON.stringify({ model, created_at: CREATED, message: { role: 'assistant', content: '' }, done: true, ...counters }) + '\n')
      }
      if (path === '/v1/chat/completions') {
        stats.streams++
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const ev = (delta, finish) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1764151200, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
        const lines = [...words.map((t) => ev({ role: 'assistant', content: t }, null)), ev({ role: 'assistant', content: '' }, 'stop')]
        return void streamOut(req, res, lines, 'data: [DONE]\n\n')
      }
      return send(res, 404, { error: '404 page not found' })
    })
  }

  const api = {
    name,
    stats,
    /** connections the gateway holds open to this host right now (its keep-alive pool) */
    connections: () => sockets.size,
    get url () { return `http://127.0.0.1:${port}` },
    pace (ms) { tokenIntervalMs = ms },
    async start () {
      server = createServer(handle)
      server.keepAliveTimeout = 30_000
      server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
      await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
      port = server.address().port
    },
    /** the host dies: every connection is reset, nothing listens until start() */
    async kill () {
      const s = server
      server = null
      for (const sock of sockets) sock.destroy()
      if (s) await new Promise((resolve) => s.close(resolve))
    },
    close () { return api.kill() }
  }
  return api
}
