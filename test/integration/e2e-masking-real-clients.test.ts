// Real clients — the `ollama` package and the OpenAI SDK — receive masked text through the gateway,
// with the fake upstream splitting PII across chunks at every position: the text a client puts back
// together equals the masking of the whole text, no raw PII is in any byte it received, and every
// stream still ends with Ollama's closing line. Thinking is masked, `context` is dropped, exempt
// roles and masking off see raw text, direction: both masks prompts, and the audit event carries
// counts per type and never the values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fetch as undiciFetch, Response as UndiciResponse, type Agent } from 'undici'
import { Ollama } from 'ollama'
import OpenAI from 'openai'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { eventually } from '../helpers/eventually.js'
import { createMaskingEngine, type MaskingEngine } from '../../src/masking/index.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON lines, read field by field
type Ev = Record<string, any>

const PII = {
  ssn: '123-45-6789',
  email: 'jane.doe@example.com',
  credit_card: '4111 1111 1111 1111',
  phone: '(212) 555-0123'
} as const
const VALUES = Object.values(PII)
const TEXT = `Record: SSN ${PII.ssn}, mail ${PII.email}, card ${PII.credit_card}, call ${PII.phone} today.`
const THINK = `The user ${PII.email} gave card ${PII.credit_card}; do not repeat ${PII.ssn}.`
const chars = (s: string) => [...s]

/** What a client received on the wire, recorded beside the client's own parsing of it. */
interface Wire { chunks: Buffer[], headers: Headers, done: Promise<void> }
const wireText = (w: Wire) => Buffer.concat(w.chunks).toString('utf8')

function recordingFetch (dispatcher: Agent, log: Wire[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await undiciFetch(input as string, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])
    const chunks: Buffer[] = []
    let body: ReadableStream<Uint8Array> | null = null
    let done = Promise.resolve()
    if (res.body !== null) {
      const [a, b] = res.body.tee()
      body = a as unknown as ReadableStream<Uint8Array>
      done = (async () => { for await (const c of b) chunks.push(Buffer.from(c)) })()
    }
    log.push({ chunks, headers: res.headers as unknown as Headers, done })
    return new UndiciResponse(body as never, { status: res.status, statusText: res.statusText, headers: res.headers })
  }) as unknown as typeof fetch
}

interface Client { ollama: Ollama, openai: OpenAI, wires: Wire[], lastWire: () => Promise<Wire> }
function clientsFor (gw: TestGateway, key: string): Client {
  const wires: Wire[] = []
  const f = recordingFetch(gw.dispatcher, wires)
  return {
    ollama: new Ollama({ host: gw.url, fetch: f, headers: { authorization: `Bearer ${key}` } }),
    openai: new OpenAI({ baseURL: gw.url + '/v1', apiKey: key, fetch: f, maxRetries: 0 }),
    wires,
    async lastWire () {
      const w = wires.at(-1) as Wire
      await w.done
      return w
    }
  }
}

interface Got { text: string, thinking: string, last: Ev }
type Run = (c: Client) => Promise<Got>

const streamed: Record<string, Run> = {
  'ollama /api/chat': async (c) => {
    const got: Got = { text: '', thinking: '', last: {} }
    for await (const part of await c.ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      got.text += part.message.content
      got.thinking += part.message.thinking ?? ''
      got.last = part
    }
    return got
  },
  'ollama /api/generate': async (c) => {
    const got: Got = { text: '', thinking: '', last: {} }
    for await (const part of await c.ollama.generate({ model: 'llama3.2', prompt: 'hi', stream: true })) {
      got.text += part.response
      got.thinking += part.thinking ?? ''
      got.last = part
    }
    return got
  },
  'openai /v1/chat/completions': async (c) => {
    const got: Got = { text: '', thinking: '', last: {} }
    for await (const chunk of await c.openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      got.text += chunk.choices[0]?.delta.content ?? ''
      got.last = chunk
    }
    return got
  },
  'openai /v1/completions': async (c) => {
    const got: Got = { text: '', thinking: '', last: {} }
    for await (const chunk of await c.openai.completions.create({ model: 'llama3.2', prompt: 'hi', stream: true })) {
      got.text += chunk.choices[0]?.text ?? ''
      got.last = chunk
    }
    return got
  }
}

const whole: Record<string, Run> = {
  'ollama /api/chat': async (c) => {
    const r = await c.ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false })
    return { text: r.message.content, thinking: r.message.thinking ?? '', last: r }
  },
  'ollama /api/generate': async (c) => {
    const r = await c.ollama.generate({ model: 'llama3.2', prompt: 'hi', stream: false })
    return { text: r.response ?? '', thinking: r.thinking ?? '', last: r }
  },
  'openai /v1/chat/completions': async (c) => {
    const r = await c.openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
    return { text: r.choices[0]?.message.content ?? '', thinking: '', last: r }
  },
  'openai /v1/completions': async (c) => {
    const r = await c.openai.completions.create({ model: 'llama3.2', prompt: 'hi' })
    return { text: r.choices[0]?.text ?? '', thinking: '', last: r }
  }
}

/** The stream ended as Ollama ends it: a `done:true` NDJSON line, or `data: [DONE]` after the last SSE event. */
function expectClosingLine (name: string, w: Wire): void {
  const raw = wireText(w)
  if (name.startsWith('openai')) {
    expect(raw.endsWith('data: [DONE]\n\n'), `${name} ends with [DONE]`).toBe(true)
  } else {
    const lines = raw.split('\n').filter((l) => l.length > 0)
    expect(JSON.parse(lines.at(-1) as string), `${name} ends with done:true`).toMatchObject({ done: true })
  }
}

function expectNoRawPii (where: string, text: string): void {
  for (const v of VALUES) expect(text.includes(v), `${where} contains ${v}`).toBe(false)
}

const readEvents = (gw: TestGateway): Ev[] =>
  readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Ev)

const eventFor = (gw: TestGateway, requestId: string): Promise<Ev> => eventually(() => {
  const e = readEvents(gw).find((x) => x.http?.request?.id === requestId)
  expect(e, `the audit event of ${requestId}`).toBeDefined()
  return e as Ev
})

const engineOf = (gw: TestGateway): MaskingEngine =>
  createMaskingEngine({ entities: gw.config.masking.entities, custom: gw.config.masking.custom, key: gw.gateway.secrets.maskingKey })

const ROLES = {
  admin: { permissions: ['*'], models: ['*'] },
  user: { permissions: ['inference', 'models:read'], models: ['*'] },
  auditor: { permissions: ['inference', 'models:read'], models: ['*'] }
}

describe('masking on (direction: response), an exempt role configured', () => {
  let gw: TestGateway
  let engine: MaskingEngine
  let user: Client
  let expected: string
  let expectedThinking: string
  beforeAll(async () => {
    gw = await startTestGateway({ rbac: { roles: ROLES }, masking: { exemptRoles: ['auditor'] } })
    engine = engineOf(gw)
    user = clientsFor(gw, await gw.createKey('user'))
    expected = engine.maskText(TEXT)
    expectedThinking = engine.maskText(THINK)
  })
  afterAll(async () => { await gw?.close() })

  it('the expected masking replaces every PII value with its typed token', () => {
    // guards the rest of the file: a detector that matched nothing would make every check vacuous
    expectNoRawPii('expected', expected)
    for (const type of Object.keys(PII)) expect(expected).toMatch(new RegExp(`\\[MASKED_${type.toUpperCase()}_[0-9a-f]{8}\\]`))
  })

  it('one character per chunk and one byte per write: every stream reassembles to the masking of the whole text', async () => {
    for (const [name, run] of Object.entries(streamed)) {
      gw.fake.script = { ...defaultScript(), tokens: chars(TEXT), splitAt: (b) => Array.from({ length: b.length }, (_, i) => i) }
      const got = await run(user)
      const w = await user.lastWire()
      expect(got.text, name).toBe(expected)
      expectNoRawPii(`${name} text`, got.text)
      expectNoRawPii(`${name} wire`, wireText(w))
      expectClosingLine(name, w)
    }
  })

  it('a single cut at every position inside each PII value, also cutting the bytes inside it, never lets it through', async () => {
    const cuts: number[] = []
    for (const v of VALUES) {
      const start = TEXT.indexOf(v)
      for (let p = start; p <= start + v.length; p++) cuts.push(p)
    }
    for (const [name, run] of Object.entries(streamed)) {
      for (const p of cuts) {
        const head = TEXT.slice(0, p)
        const tail = TEXT.slice(p)
        gw.fake.script = {
          ...defaultScript(),
          tokens: [head, tail],
          // also cut the upstream bytes in the middle of the last 4 characters before the split and the first 4 after it
          splitAt: (b) => [Buffer.from(head.slice(-4)), Buffer.from(tail.slice(0, 4))]
            .map((frag) => frag.length === 0 ? -1 : b.indexOf(frag) + Math.max(1, frag.length >> 1))
        }
        const got = await run(user)
        const w = await user.lastWire()
        expect(got.text, `${name} cut at ${p}`).toBe(expected)
        expectNoRawPii(`${name} cut at ${p} wire`, wireText(w))
        expectClosingLine(name, w)
      }
    }
  })

  it('replies that are not streamed are masked as whole documents', async () => {
    for (const [name, run] of Object.entries(whole)) {
      gw.fake.script = { ...defaultScript(), tokens: chars(TEXT) }
      const got = await run(user)
      const w = await user.lastWire()
      expect(got.text, name).toBe(expected)
      expectNoRawPii(`${name} wire`, wireText(w))
      if (name.startsWith('ollama')) expect(got.last.done, name).toBe(true)
      else expect(got.last.choices[0].finish_reason, name).toBe('stop')
    }
  })

  it('thinking is masked in /api/chat and /api/generate, streamed and not', async () => {
    for (const runs of [streamed, whole]) {
      for (const name of ['ollama /api/chat', 'ollama /api/generate']) {
        gw.fake.script = { ...defaultScript(), thinking: chars(THINK), tokens: chars(TEXT), splitAt: (b) => Array.from({ length: 200 }, (_, i) => i * 13).filter((i) => i < b.length) }
        const got = await (runs[name] as Run)(user)
        const w = await user.lastWire()
        expect(got.thinking, name).toBe(expectedThinking)
        expect(got.text, name).toBe(expected)
        expectNoRawPii(`${name} wire`, wireText(w))
      }
    }
  })

  it('`context` (token ids of the unmasked conversation) is dropped from the generate done line', async () => {
    gw.fake.script = { ...defaultScript(), tokens: chars(TEXT) }
    const s = await (streamed['ollama /api/generate'] as Run)(user)
    expect(s.last.done).toBe(true)
    expect(s.last).not.toHaveProperty('context')
    const r = await (whole['ollama /api/generate'] as Run)(user)
    expect(r.last).not.toHaveProperty('context')
    expect(wireText(await user.lastWire())).not.toContain('"context"')
  })

  it('a role listed in masking.exemptRoles receives the raw text', async () => {
    const auditor = clientsFor(gw, await gw.createKey('auditor'))
    for (const [name, run] of [...Object.entries(streamed), ...Object.entries(whole)]) {
      gw.fake.script = { ...defaultScript(), tokens: chars(TEXT) }
      expect((await run(auditor)).text, name).toBe(TEXT)
    }
  })

  it('the request\'s audit event counts what was masked per type, and the log never holds a value', async () => {
    gw.fake.script = { ...defaultScript(), thinking: chars(THINK), tokens: chars(TEXT) }
    await (streamed['ollama /api/chat'] as Run)(user)
    const w = await user.lastWire()
    const ev = await eventFor(gw, w.headers.get('x-request-id') as string)
    const counts: Record<string, number> = {}
    engine.maskText(TEXT, counts)
    engine.maskText(THINK, counts)
    expect(ev.event.action).toBe('model-request')
    expect(ev.gatehouse.masked).toEqual(counts)
    expect(counts).toEqual({ ssn: 2, email: 2, credit_card: 2, phone: 1 })

    gw.fake.script = { ...defaultScript(), tokens: chars(TEXT) }
    await (streamed['openai /v1/completions'] as Run)(user)
    const ev2 = await eventFor(gw, (await user.lastWire()).headers.get('x-request-id') as string)
    expect(ev2.gatehouse.masked).toEqual({ ssn: 1, email: 1, credit_card: 1, phone: 1 })

    const log = readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8')
    expectNoRawPii('audit.log', log)
    expect(log).not.toMatch(/MASKED_/)
    expect(log).not.toContain(PII.credit_card.replace(/ /g, ''))
  })
})

describe('masking.enabled: false', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startTestGateway({ masking: { enabled: false } }) })
  afterAll(async () => { await gw?.close() })

  it('text, thinking and context pass unchanged, streamed and not', async () => {
    const c = clientsFor(gw, gw.adminKey)
    for (const [kind, runs] of [['streamed', streamed], ['whole', whole]] as const) {
      for (const [name, run] of Object.entries(runs)) {
        gw.fake.script = { ...defaultScript(), thinking: chars(THINK), tokens: chars(TEXT) }
        const got = await run(c)
        expect(got.text, `${kind} ${name}`).toBe(TEXT)
        if (name.startsWith('ollama')) expect(got.thinking, `${kind} ${name}`).toBe(THINK)
        if (name === 'ollama /api/generate') expect(got.last.context, `${kind} ${name}`).toEqual([1, 2, 3])
        if (kind === 'streamed') expectClosingLine(name, await c.lastWire())
      }
    }
    const ev = await eventFor(gw, (await c.lastWire()).headers.get('x-request-id') as string)
    expect(ev.gatehouse.masked).toEqual({})
  })
})

describe('masking.direction: both', () => {
  let gw: TestGateway
  let engine: MaskingEngine
  beforeAll(async () => {
    gw = await startTestGateway({ masking: { direction: 'both' } })
    engine = engineOf(gw)
  })
  afterAll(async () => { await gw?.close() })

  const lastReceived = (gw: TestGateway) => gw.fake.received.at(-1)?.body.toString('utf8') ?? ''

  it('prompts reach Ollama masked, from both clients and on every prompt field', async () => {
    const c = clientsFor(gw, gw.adminKey)
    gw.fake.script = defaultScript()
    await c.ollama.chat({ model: 'llama3.2', stream: false, messages: [{ role: 'system', content: `Customer ${PII.email}` }, { role: 'user', content: TEXT }] })
    let seen = lastReceived(gw)
    expectNoRawPii('chat prompt at Ollama', seen)
    expect(seen).toContain(JSON.stringify(engine.maskText(TEXT)))
    expect(seen).toContain(engine.maskText(`Customer ${PII.email}`))

    await c.ollama.generate({ model: 'llama3.2', stream: false, prompt: TEXT, system: `SSN ${PII.ssn}` })
    seen = lastReceived(gw)
    expectNoRawPii('generate prompt at Ollama', seen)
    expect(seen).toContain(JSON.stringify(engine.maskText(TEXT)))

    await c.openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: [{ type: 'text', text: TEXT }] }] })
    seen = lastReceived(gw)
    expectNoRawPii('openai chat prompt at Ollama', seen)
    expect(seen).toContain(JSON.stringify(engine.maskText(TEXT)))

    await c.openai.completions.create({ model: 'llama3.2', prompt: [TEXT, PII.phone] })
    seen = lastReceived(gw)
    expectNoRawPii('openai completion prompt at Ollama', seen)
    expect(seen).toContain(JSON.stringify(engine.maskText(PII.phone)))
  })

  it('a case-variant key ("PROMPT", as Go reads it) is masked too, and the event counts prompt and reply', async () => {
    gw.fake.script = { ...defaultScript(), tokens: [`ok ${PII.ssn}`] }
    const res = await call(gw, 'POST', '/api/generate', {
      headers: { 'content-type': 'application/json' },
      body: `{"model":"llama3.2","stream":false,"prompt":"mail ${PII.email}","PROMPT":"card ${PII.credit_card}"}`
    })
    expect(res.status).toBe(200)
    const seen = lastReceived(gw)
    expectNoRawPii('PROMPT at Ollama', seen)
    expect(seen).toContain(engine.maskText(`card ${PII.credit_card}`))
    expect((res.json as Ev).response).toBe(engine.maskText(`ok ${PII.ssn}`))
    const ev = await eventFor(gw, res.headers['x-request-id'] as string)
    expect(ev.gatehouse.masked).toMatchObject({ credit_card: 1, ssn: 1 })
    expect(ev.gatehouse.masked.email ?? 0).toBeLessThanOrEqual(1)
    expectNoRawPii('audit.log', readFileSync(join(gw.dir, 'logs', 'audit.log'), 'utf8'))
  })
})
