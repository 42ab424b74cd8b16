// masking.direction: both rewrites only the prompt text of the checked body: every other byte reaches
// Ollama as the client sent it. A JSON.parse/JSON.stringify round trip would turn a 64-bit seed
// into a rounded double (18446744073709551615 → 18446744073709552000) and reorder nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway({ masking: { direction: 'both' } }) })
afterAll(async () => { await gw?.close() })

const json = { 'content-type': 'application/json' }
const received = () => gw.fake.received.at(-1)?.body.toString('utf8') ?? ''

describe('prompt masking keeps the rest of the body byte for byte', () => {
  it('a 64-bit seed and exact decimals reach Ollama as sent, while the prompt is masked', async () => {
    gw.fake.script = defaultScript()
    const tail = '"options":{"seed":18446744073709551615,"temperature":0.10000000000000000001},"keep_alive":-1,"stream":false'
    const r = await call(gw, 'POST', '/api/generate', { headers: json, body: `{"model":"llama3.2","prompt":"my ssn is 123-45-6789",${tail}}` })
    expect(r.status).toBe(200)
    const seen = received()
    expect(seen).not.toContain('123-45-6789')
    expect(seen).toContain(tail)
  })

  it('chat: messages are masked, numbers beside them are untouched', async () => {
    gw.fake.script = defaultScript()
    const options = '"options":{"seed":9007199254740993}'
    const r = await call(gw, 'POST', '/api/chat', {
      headers: json,
      body: `{"model":"llama3.2","messages":[{"role":"user","content":"mail jane.doe@example.com"}],${options},"stream":false}`
    })
    expect(r.status).toBe(200)
    const seen = received()
    expect(seen).not.toContain('jane.doe@example.com')
    expect(seen).toContain(options)
  })

  it('a body with nothing to mask is forwarded exactly as checked', async () => {
    gw.fake.script = defaultScript()
    const body = '{"model":"llama3.2","prompt":"hello there","options":{"seed":18446744073709551615,"num_ctx":4096},"stream":false}'
    const r = await call(gw, 'POST', '/api/generate', { headers: json, body })
    expect(r.status).toBe(200)
    expect(received()).toBe(body)
  })
})
