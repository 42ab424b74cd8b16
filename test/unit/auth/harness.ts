// A small auth world for tests: real SQLite store (in memory), memory shared state, a manual clock,
// a fresh Ed25519 key, captured audit events and a Fastify app standing in for the lead's app (its
// onRequest hook sets request.gh; `x-test-ip` picks the source address).
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { tmpdir } from 'node:os'
import Fastify, { type FastifyInstance } from 'fastify'
import { manualClock } from '../../helpers/clock.js'
import { buildConfig } from '../../../src/config/load.js'
import type { GatehouseConfig } from '../../../src/config/schema.js'
import { createStore, type StoreBackend } from '../../../src/store/index.js'
import { createSharedState, type SharedState } from '../../../src/cluster-state/index.js'
import type { AuditInput } from '../../../src/audit/types.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { errorHandler } from '../../../src/pipeline/error-handler.js'
import { createAuth, type Auth } from '../../../src/auth/index.js'
import { totpCodeAt } from '../../helpers/totp.js'
import type { PasswordHasher } from '../../../src/auth/passwords.js'
import { cheapPasswords } from '../../helpers/passwords.js'

export const TEST_PASSWORD = 'violet-harbor-cinnamon-42'

export interface Harness {
  clock: ReturnType<typeof manualClock>
  store: StoreBackend
  sharedState: SharedState
  config: GatehouseConfig
  auth: Auth
  events: AuditInput[]
  keys: { privateKey: KeyObject, publicKey: KeyObject, kid: string }
  totpKey: Buffer
  app: FastifyInstance
  close: () => Promise<void>
}

export interface HarnessOptions {
  /** default `sqlite::memory:` */
  storeUrl?: string
  /** PostgreSQL schema for this run */
  schema?: string
  /** what the auth module sees instead of the store (e.g. one adding latency); `Harness.store` stays the real one */
  wrapStore?: (store: StoreBackend) => StoreBackend
  /** default: cheap argon2id (test/helpers/passwords.ts); pass createPasswordHasher() where hashing cost matters */
  passwords?: PasswordHasher
}

export async function createHarness (configOverrides: Record<string, unknown> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  const config = buildConfig(configOverrides, tmpdir())
  const store = await createStore(opts.storeUrl ?? 'sqlite::memory:', { schema: opts.schema })
  const sharedState = createSharedState({ backend: 'memory', clock, prefix: `t${process.pid}:` })
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const keys = { privateKey, publicKey, kid: 'test-kid-1' }
  const totpKey = Buffer.alloc(32, 7)
  const events: AuditInput[] = []
  const auth = createAuth({ config, store: opts.wrapStore?.(store) ?? store, sharedState, signingKey: keys, totpKey, clock, audit: (e) => { events.push(e) }, passwords: opts.passwords ?? cheapPasswords })

  const app = Fastify({ logger: false })
  app.setErrorHandler(errorHandler)
  app.addHook('onRequest', async (request) => {
    const ip = request.headers['x-test-ip']
    request.gh = newRequestContext(request.id, typeof ip === 'string' ? ip : '127.0.0.1')
  })
  await app.register(auth.routes)
  // stand-ins for a proxied route and an admin route
  app.get('/api/tags', { preHandler: auth.authenticate }, async (request) => ({ identity: request.gh.identity }))
  app.post('/v1/chat/completions', { preHandler: auth.authenticate }, async (request) => ({ identity: request.gh.identity }))
  app.get('/admin/users', { preHandler: auth.authenticateSessionOnly }, async (request) => ({ identity: request.gh.identity }))
  await app.ready()

  return {
    clock, store, sharedState, config, auth, events, keys, totpKey, app,
    async close () {
      await app.close()
      await sharedState.close()
      await store.close()
    }
  }
}

/** The current code for an otpauth URL's secret, at the harness clock (or `offsetSteps` away). */
export function secretOf (otpauthUrl: string): string {
  const s = new URL(otpauthUrl).searchParams.get('secret')
  if (s === null) throw new Error('no secret in otpauth url')
  return s
}

export const codeAt = (h: Harness, secret: string, offsetSteps = 0) => totpCodeAt(secret, h.clock.now() + offsetSteps * 30_000)

export async function login (h: Harness, username: string, password: string, ip = '127.0.0.1') {
  return h.app.inject({ method: 'POST', url: '/auth/login', headers: { 'x-test-ip': ip }, payload: { username, password } })
}

export async function mfa (h: Harness, mfaToken: string, code: string, ip = '127.0.0.1') {
  return h.app.inject({ method: 'POST', url: '/auth/mfa', headers: { 'x-test-ip': ip }, payload: { mfa_token: mfaToken, code } })
}

/** Creates a user, logs in, enrolls TOTP; returns the secret and a session token. Moves the clock one step. */
export async function enrolledSession (h: Harness, username = 'alice', role = 'user'): Promise<{ secret: string, token: string }> {
  await h.auth.userAdmin.addUser(username, role, TEST_PASSWORD)
  const r = await login(h, username, TEST_PASSWORD)
  const body = r.json() as { status: string, mfa_token: string, otpauth_url: string }
  if (body.status !== 'mfa_enrollment_required') throw new Error(`unexpected login status ${body.status}`)
  const secret = secretOf(body.otpauth_url)
  const m = await mfa(h, body.mfa_token, await codeAt(h, secret))
  if (m.statusCode !== 200) throw new Error(`enrollment failed: ${m.body}`)
  h.clock.advance(30_000)
  return { secret, token: (m.json() as { access_token: string }).access_token }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
