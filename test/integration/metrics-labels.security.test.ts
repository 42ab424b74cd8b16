// Security: /metrics model labels. Only models Ollama actually has become labels (so junk names
// cannot use up the label budget and push real models into `_other`), and a scraper sees only the
// labels of models its roles may use: the monitor role sees none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_ROLES } from '../../src/config/schema.js'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'

let gw: TestGateway
const keys: Record<string, string> = {}

beforeAll(async () => {
  gw = await startTestGateway({
    rbac: { roles: { ...DEFAULT_ROLES, 'llama-ops': { permissions: ['metrics:read', 'inference'], models: ['llama3.2'] } } }
  })
  for (const role of ['monitor', 'llama-ops']) keys[role] = await gw.createKey(role)
})
afterAll(async () => { await gw.close() })

const chat = (model: string) => call(gw, 'POST', '/api/chat', {
  headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: false })
})
const scrape = async (key: string) => (await call(gw, 'GET', '/metrics', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).text
const modelLabels = (text: string) => new Set([...text.matchAll(/model="([^"]*)"/g)].map((m) => m[1] as string))

describe('model labels', () => {
  it('junk model names (404 upstream) do not use up the label budget: a real model keeps its own label', async () => {
    for (let i = 0; i < 210; i++) expect((await chat(`junk-${i}`)).status).toBe(404)
    // pull answers 200 with a progress stream whatever the name: it proves nothing
    const pull = await call(gw, 'POST', '/api/pull', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'pulled-junk' }) })
    expect(pull.status).toBe(200)
    expect((await chat('llama3.2')).status).toBe(200)
    expect((await chat('secret-model')).status).toBe(200)
    const labels = modelLabels(await scrape(gw.adminKey))
    expect(labels.has('llama3.2:latest')).toBe(true)
    expect(labels.has('secret-model:latest')).toBe(true)
    expect([...labels].filter((l) => l.includes('junk'))).toEqual([])
  })

  it('models listed by /api/tags become labels', async () => {
    expect((await call(gw, 'GET', '/api/tags')).status).toBe(200)
    expect((await chat('qwen2.5:7b')).status).toBe(200)
    expect(modelLabels(await scrape(gw.adminKey)).has('qwen2.5:7b')).toBe(true)
  })

  it('the monitor role sees no model names; their counts are folded into _other', async () => {
    const text = await scrape(keys.monitor as string)
    const labels = [...modelLabels(text)]
    expect(labels.every((l) => l === '' || l === '_other'), labels.join(',')).toBe(true)
    const admin = await scrape(gw.adminKey)
    // the totals are the same, only the labels differ
    const total = (t: string) => [...t.matchAll(/^gatehouse_http_requests_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
    expect(total(text)).toBeGreaterThanOrEqual(213)
    expect(total(admin)).toBeGreaterThanOrEqual(total(text))
  })

  it('a scraper whose role may use llama3.2 sees that label and not the others', async () => {
    const labels = modelLabels(await scrape(keys['llama-ops'] as string))
    expect(labels.has('llama3.2:latest')).toBe(true)
    expect(labels.has('secret-model:latest')).toBe(false)
    expect(labels.has('qwen2.5:7b')).toBe(false)
  })
})
