// The clients users actually run — the `ollama` package and the OpenAI SDK — work through the
// gateway over TLS, streamed and not, and every streamed answer arrives complete and unaltered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { ollamaClient, openaiClient } from '../helpers/clients.js'

let gw: TestGateway
const tokens = ['The ', 'quick ', 'brown ', 'fox ', 'jumps ', 'over ', 'the ', 'lazy ', 'dog. ', 'ünïcødé ', '🦊']
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

const everyByte = (b: Buffer) => Array.from({ length: b.length }, (_, i) => i)

describe('ollama npm package', () => {
  it('chat, streamed, split at every byte, arrives complete', async () => {
    gw.fake.script = { ...defaultScript(), tokens, splitAt: everyByte }
    const ollama = ollamaClient(gw.url, gw.dispatcher, gw.auth)
    let text = ''
    let last: { done?: boolean, eval_count?: number } = {}
    for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      text += part.message.content
      last = part
    }
    expect(text).toBe(tokens.join(''))
    expect(last).toMatchObject({ done: true, eval_count: tokens.length })
  })
  it('chat, not streamed', async () => {
    gw.fake.script = { ...defaultScript(), tokens }
    const r = await ollamaClient(gw.url, gw.dispatcher, gw.auth).chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false })
    expect(r.message.content).toBe(tokens.join(''))
  })
  it('generate, streamed and not', async () => {
    gw.fake.script = { ...defaultScript(), tokens, splitAt: (b) => [3, 17, 40, 41, 42, b.length - 5] }
    const ollama = ollamaClient(gw.url, gw.dispatcher, gw.auth)
    let text = ''
    for await (const part of await ollama.generate({ model: 'llama3.2', prompt: 'x', stream: true })) text += part.response
    expect(text).toBe(tokens.join(''))
    expect((await ollama.generate({ model: 'llama3.2', prompt: 'x', stream: false })).response).toBe(tokens.join(''))
  })
  it('list, show, embed', async () => {
    gw.fake.script = defaultScript()
    const ollama = ollamaClient(gw.url, gw.dispatcher, gw.auth)
    expect((await ollama.list()).models.map((m) => m.name)).toContain('llama3.2:latest')
    expect((await ollama.show({ model: 'llama3.2' })).details.family).toBe('llama')
    expect((await ollama.embed({ model: 'nomic-embed-text', input: 'x' })).embeddings[0]).toHaveLength(3)
  })
})

describe('openai SDK against /v1', () => {
  it('chat, streamed, split at every byte, arrives complete', async () => {
    gw.fake.script = { ...defaultScript(), tokens, splitAt: everyByte }
    const stream = await openaiClient(gw.url, gw.dispatcher, gw.adminKey).chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe(tokens.join(''))
  })
  it('chat, not streamed', async () => {
    gw.fake.script = { ...defaultScript(), tokens }
    const r = await openaiClient(gw.url, gw.dispatcher, gw.adminKey).chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.choices[0]?.message.content).toBe(tokens.join(''))
    expect(r.usage?.completion_tokens).toBe(tokens.length)
  })
  it('models list and retrieve, embeddings', async () => {
    gw.fake.script = defaultScript()
    const client = openaiClient(gw.url, gw.dispatcher, gw.adminKey)
    const ids: string[] = []
    for await (const m of client.models.list()) ids.push(m.id)
    expect(ids).toContain('llama3.2:latest')
    expect((await client.models.retrieve('llama3.2:latest')).id).toBe('llama3.2:latest')
    const e = await client.embeddings.create({ model: 'nomic-embed-text', input: 'x' })
    expect(e.data[0]?.embedding.length).toBeGreaterThan(0)
  })
  it('an upstream 404 surfaces as the SDK\'s NotFoundError with Ollama\'s message', async () => {
    gw.fake.script = defaultScript()
    await expect(openaiClient(gw.url, gw.dispatcher, gw.adminKey).chat.completions.create({ model: 'missing', messages: [] }))
      .rejects.toMatchObject({ status: 404, message: expect.stringContaining('not found') })
  })
})
