// The proxied API is unreachable without a valid credential: every route, every method.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { PROXIED_ROUTES } from '../../src/ollama/routes.js'
import OpenAI from 'openai'
import { ollamaClient, openaiClient } from '../helpers/clients.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

const concretePath = (p: string) => p.replace(':model', 'llama3.2').replace(':digest', 'sha256:' + 'a'.repeat(64))

describe('no credential, no access', () => {
  for (const route of PROXIED_ROUTES) {
    it(`${route.method} ${route.path} without a credential is 401 with WWW-Authenticate and never reaches Ollama`, async () => {
      gw.fake.reset()
      const res = await call(gw, route.method, concretePath(route.path), { anonymous: true, body: route.method === 'POST' || route.method === 'DELETE' ? JSON.stringify({ model: 'llama3.2' }) : undefined })
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer')
      expect(gw.fake.received).toHaveLength(0)
    })
  }
  it('a forged key, a random JWT and Basic with a wrong key are 401 and echo nothing', async () => {
    for (const h of ['Bearer ghk_' + 'A'.repeat(43), 'Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.AAAA', 'Basic ' + Buffer.from('x:ghk_nope').toString('base64')]) {
      const res = await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: h } })
      expect(res.status).toBe(401)
      expect(res.text).not.toContain(h.split(' ')[1] as string)
    }
  })
  it('the ollama package shows the 401', async () => {
    await expect(ollamaClient(gw.url, gw.dispatcher).list()).rejects.toMatchObject({ status_code: 401 })
  })
  it('the OpenAI SDK shows the 401 as an AuthenticationError', async () => {
    const err = await openaiClient(gw.url, gw.dispatcher, 'ghk_wrong').models.list().then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(err).toMatchObject({ status: 401, message: '401 invalid or expired credentials' })
  })
  it('with the key, both clients get through (Bearer for OpenAI, Basic works too)', async () => {
    expect((await openaiClient(gw.url, gw.dispatcher, gw.adminKey).models.retrieve('llama3.2:latest')).id).toBe('llama3.2:latest')
    const basic = await call(gw, 'GET', '/api/version', { anonymous: true, headers: { authorization: 'Basic ' + Buffer.from(`svc:${gw.adminKey}`).toString('base64') } })
    expect(basic.status).toBe(200)
  })
})
