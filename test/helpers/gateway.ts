// Starts a real Gatehouse on a free port over TLS, in front of a fake Ollama.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request as undiciRequest } from 'undici'
import { buildConfig } from '../../src/config/load.js'
import type { GatehouseConfig } from '../../src/config/schema.js'
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js'
import { startFakeOllama, type FakeOllama } from './fake-ollama.js'
import { sharedTestCerts, type TestCerts } from './tls.js'
import { cheapPasswords } from './passwords.js'

export interface TestGateway {
  url: string
  port: number
  gateway: Gateway
  fake: FakeOllama
  certs: TestCerts
  config: GatehouseConfig
  dir: string
  /** an undici dispatcher that trusts the test CA */
  dispatcher: Agent
  /** an API key with the admin role (every permission but pii:unmasked) */
  adminKey: string
  /** Authorization header for adminKey */
  auth: Record<string, string>
  /** creates an API key with the given role */
  createKey: (role: string, name?: string) => Promise<string>
  close: () => Promise<void>
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<infer _U> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] }

export const testCerts = (): TestCerts => sharedTestCerts()

export async function startTestGateway (overrides: Record<string, unknown> = {}, options: GatewayOptions & { fake?: FakeOllama } = {}): Promise<TestGateway> {
  const fake = options.fake ?? await startFakeOllama()
  const certs = testCerts()
  const dir = mkdtempSync(join(tmpdir(), 'gh-gw-'))
  const raw = {
    listen: { host: '127.0.0.1', port: 0 },
    ...overrides,
    // a fleet (`upstream.hosts`) replaces the fake's url: the two keys are exclusive
    upstream: {
      ...((overrides.upstream as { hosts?: unknown } | undefined)?.hosts === undefined ? { url: fake.url } : {}),
      connectTimeoutMs: 1000, headersTimeoutMs: 5000, idleTimeoutMs: 5000, ...(overrides.upstream as object | undefined)
    },
    tls: { cert: certs.cert, key: certs.key, ...(overrides.tls as object | undefined) },
    dataDir: join(dir, 'data'),
    store: (overrides.store as object | undefined) ?? { url: `sqlite:${join(dir, 'data', 'gatehouse.db')}` },
    audit: { sinks: [{ type: 'file', path: join(dir, 'logs', 'audit.log') }], ...(overrides.audit as object | undefined) }
  }
  const config = buildConfig(raw, dir)
  const gateway = await createGateway(config, { passwords: cheapPasswords, ...options })
  await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (gateway.app.server.address() as { port: number }).port
  const scheme = config.tls.enabled ? 'https' : 'http'
  const dispatcher = new Agent({ connect: { ca: certs.ca } })
  let keys = 0
  const createKey = async (role: string, name = `test-${role}-${++keys}`) =>
    (await gateway.auth.userAdmin.createKey({ name, role, expiresIn: null })).key
  const adminKey = await createKey('admin', 'test-admin')
  return {
    adminKey,
    auth: { authorization: `Bearer ${adminKey}` },
    createKey,
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    gateway,
    fake,
    certs,
    config,
    dir,
    dispatcher,
    async close () {
      await dispatcher.close()
      await gateway.close()
      if (!options.fake) await fake.close()
    }
  }
}

/** A request through the gateway with undici, trusting the test CA. */
export async function call (gw: TestGateway, method: string, path: string, opts: { headers?: Record<string, string>, body?: string | Buffer, anonymous?: boolean } = {}) {
  const headers = { ...(opts.anonymous ? {} : gw.auth), ...opts.headers }
  const res = await undiciRequest(gw.url + path, { method: method as 'GET', headers, body: opts.body, dispatcher: gw.dispatcher })
  const text = await res.body.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = null }
  return { status: res.statusCode, headers: res.headers, text, json: json as Record<string, unknown> | null }
}
