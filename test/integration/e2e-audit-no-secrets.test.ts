// Never in an audit event: passwords, TOTP codes or secrets, tokens, API keys, prompts, model output,
// masked values. A full scenario runs through the real gateway — users, logins with
// MFA enrollment, a TOTP replay, lockout, logout, rejected tokens, the admin API, an API key streaming
// a chat whose prompt and answer carry PII — and then every byte of the audit log and its checkpoint
// file is scanned for every secret the scenario used, in the encodings a leak would take. The same
// log has every action the scenario triggered, the common fields on each event, and verifies intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { defaultScript } from '../helpers/fake-ollama.js'
import { cli } from '../helpers/cli.js'
import { totpCodeAt } from '../helpers/totp.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON lines, read field by field
type Ev = Record<string, any>

// every value the scenario hands the gateway that must never be written down
const secrets = new Map<string, string>()
const remember = (label: string, value: string | undefined | null) => {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`no value for ${label}`)
  secrets.set(label, value)
  return value
}
// TOTP codes are 6 digits: they are searched as whole numbers, so a digit run inside a hash is no hit
const codes = new Map<string, string>()

const PASSWORDS = {
  admin: 'Admin-passphrase-Quokka-7741',
  carol: 'Carol-passphrase-Wombat-2219',
  carolNew: 'Carol-rotated-Platypus-5530',
  bob: 'Bob-passphrase-Echidna-0093',
  bobWrong1: 'Wrong-guess-Numbat-1111',
  bobWrong2: 'Wrong-guess-Numbat-2222',
  bobWrong3: 'Wrong-guess-Numbat-3333',
  unknownUser: 'Ghost-passphrase-Dingo-4480'
}
const PII = { ssn: '078-05-1120', email: 'mallory.leak@example.org', card: '5500 0000 0000 0004', phone: '+1 415 555 0142' }
const PROMPT = 'Zebra-prompt-4471: summarize the dossier of agent Kestrel'
const OUTPUT = ['Kestrel-output-9902 says: ', 'reach me at ', PII.email, ' or ', PII.phone, ', SSN ', PII.ssn, ', card ', PII.card, '.']

const json = { 'content-type': 'application/json' }
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

let gw: TestGateway
let logFiles: Array<{ name: string, bytes: Buffer }> = []
let events: Ev[] = []
let dataDir = ''
let logPath = ''

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(gw, 'POST', path, { anonymous: true, headers: { ...json, ...headers }, body: JSON.stringify(body) })

async function enroll (username: string, password: string): Promise<{ secret: string, code: string, token: string }> {
  const r = await post('/auth/login', { username, password })
  expect(r.status).toBe(200)
  const body = r.json as Ev
  expect(body.status).toBe('mfa_enrollment_required')
  remember(`${username} enrollment mfa_token`, body.mfa_token)
  remember(`${username} otpauth_url`, body.otpauth_url)
  const secret = remember(`${username} TOTP secret`, new URL(body.otpauth_url as string).searchParams.get('secret'))
  const code = await totpCodeAt(secret, Date.now())
  codes.set(`${username} enrollment code`, code)
  const m = await post('/auth/mfa', { mfa_token: body.mfa_token, code })
  expect(m.status).toBe(200)
  const token = remember(`${username} session token`, (m.json as Ev).access_token)
  return { secret, code, token }
}

function base32Decode (s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(ch)
    if (i < 0) throw new Error('not base32')
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8 }
  }
  return Buffer.from(out)
}

/** The forms a secret could take in a JSON line: itself, JSON-escaped, base64/base64url/hex of its bytes. */
function encodingsOf (value: string): string[] {
  const b = Buffer.from(value, 'utf8')
  const forms = [value, JSON.stringify(value).slice(1, -1), b.toString('base64').replace(/=+$/, ''), b.toString('base64url'), b.toString('hex')]
  return [...new Set(forms.filter((f) => f.length >= 8))]
}

/** Every secret of the scenario found in `bytes`, as `file: label as form`. */
function leaksIn (name: string, bytes: Buffer): string[] {
  const leaks: string[] = []
  const text = bytes.toString('latin1')
  for (const [label, value] of secrets) {
    for (const form of encodingsOf(value)) if (text.includes(form)) leaks.push(`${name}: ${label} as ${form}`)
    // a JWT is also recognisable by its signature alone
    const sig = value.split('.')[2]
    if (value.startsWith('eyJ') && sig !== undefined && text.includes(sig)) leaks.push(`${name}: ${label} signature`)
  }
  for (const [label, code] of codes) {
    if (new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(text)) leaks.push(`${name}: ${label} ${code}`)
  }
  // masked output is still model output
  if (text.includes('MASKED_')) leaks.push(`${name}: a masking token`)
  return leaks
}

beforeAll(async () => {
  gw = await startTestGateway({ auth: { lockout: { maxFailedAttempts: 3 } } })
  dataDir = gw.config.dataDir
  logPath = join(gw.dir, 'logs', 'audit.log')
  const ua = gw.gateway.auth.userAdmin

  // the first admin, as `gatehouse user add` would make it
  await ua.addUser('root-admin', 'admin', remember('admin password', PASSWORDS.admin))
  const admin = await enroll('root-admin', PASSWORDS.admin)
  const secretBytes = base32Decode(admin.secret)
  remember('admin TOTP secret (hex)', secretBytes.toString('hex'))
  remember('admin TOTP secret (base64)', secretBytes.toString('base64').replace(/=+$/, ''))
  remember('admin TOTP secret (base64url)', secretBytes.toString('base64url'))
  remember('admin TOTP secret (lower case)', admin.secret.toLowerCase())

  // the admin API with an MFA session
  const A = bearer(admin.token)
  expect((await call(gw, 'GET', '/admin/users', { anonymous: true, headers: A })).status).toBe(200)
  expect((await post('/admin/users', { username: 'carol', role: 'user', password: remember('carol password', PASSWORDS.carol) }, A)).status).toBe(201)
  const dave = await post('/admin/users', { username: 'dave', role: 'user' }, A)
  expect(dave.status).toBe(201)
  remember('dave one-time password', (dave.json as Ev).one_time_password)
  expect((await post('/admin/users', { username: 'bob', role: 'user', password: remember('bob password', PASSWORDS.bob) }, A)).status).toBe(201)
  const svc = await post('/admin/keys', { name: 'svc-chat', role: 'user', expires_in: '30d' }, A)
  expect(svc.status).toBe(201)
  const svcKey = remember('svc API key', (svc.json as Ev).key)
  remember('svc API key body', svcKey.replace(/^ghk_/, ''))
  const spare = await post('/admin/keys', { name: 'svc-spare', role: 'monitor', expires_in: '1d' }, A)
  const spareKey = remember('spare API key', (spare.json as Ev).key)
  expect((await post(`/admin/keys/${(spare.json as Ev).record.id as string}/revoke`, {}, A)).status).toBe(200)
  expect((await post('/admin/users/carol/role', { role: 'monitor' }, A)).status).toBe(200)
  expect((await post('/admin/users/carol/role', { role: 'user' }, A)).status).toBe(200)
  expect((await post('/admin/users/dave/disable', {}, A)).status).toBe(200)
  expect((await post('/admin/users/dave/enable', {}, A)).status).toBe(200)
  expect((await post('/admin/users/carol/reset-mfa', {}, A)).status).toBe(200)
  // as `gatehouse user set-password` would do it
  await ua.setPassword('carol', remember('carol new password', PASSWORDS.carolNew))

  // wrong passwords until bob is locked, then an admin unlocks him
  for (const p of [PASSWORDS.bobWrong1, PASSWORDS.bobWrong2, PASSWORDS.bobWrong3]) {
    expect((await post('/auth/login', { username: 'bob', password: remember(`bob wrong password ${p}`, p) })).status).toBe(401)
  }
  expect((await post('/auth/login', { username: 'bob', password: PASSWORDS.bob })).status).toBe(401)
  expect((await post('/admin/users/bob/unlock', {}, A)).status).toBe(200)
  expect((await post('/auth/login', { username: 'ghost', password: remember('unknown user password', PASSWORDS.unknownUser) })).status).toBe(401)

  // the admin again: the enrollment code replayed, a wrong code, then the next step's code
  const again = await post('/auth/login', { username: 'root-admin', password: PASSWORDS.admin })
  expect((again.json as Ev).status).toBe('mfa_required')
  const mfaToken = remember('admin mfa_token', (again.json as Ev).mfa_token)
  expect((await post('/auth/mfa', { mfa_token: mfaToken, code: admin.code })).status).toBe(401)
  const wrong = String((Number(admin.code) + 500_000) % 1_000_000).padStart(6, '0')
  codes.set('admin wrong code', wrong)
  expect((await post('/auth/mfa', { mfa_token: mfaToken, code: wrong })).status).toBe(401)
  const next = await totpCodeAt(admin.secret, Date.now() + 30_000)
  codes.set('admin next code', next)
  const second = await post('/auth/mfa', { mfa_token: mfaToken, code: next })
  expect(second.status).toBe(200)
  const token2 = remember('admin second session token', (second.json as Ev).access_token)
  expect((await call(gw, 'GET', '/auth/me', { anonymous: true, headers: bearer(token2) })).status).toBe(200)
  // an mfa_token is no credential anywhere else
  expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer(mfaToken) })).status).toBe(401)
  expect((await call(gw, 'POST', '/auth/logout', { anonymous: true, headers: { ...json, ...bearer(token2) } })).status).toBe(204)
  expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer(token2) })).status).toBe(401)
  const forged = remember('forged API key', 'ghk_' + 'Forged0Key1Value2That3Is4Long5Enough6x')
  expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer(forged) })).status).toBe(401)
  expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: bearer(spareKey) })).status).toBe(401)

  // carol, after her MFA reset and password change, enrolls and chats with her session
  const carol = await enroll('carol', PASSWORDS.carolNew)
  gw.fake.script = { ...defaultScript(), tokens: OUTPUT, splitAt: (b) => Array.from({ length: b.length }, (_, i) => i * 7) }
  const chat = await call(gw, 'POST', '/api/chat', { anonymous: true, headers: { ...json, ...bearer(carol.token) }, body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: PROMPT }] }) })
  expect(chat.status).toBe(200)

  // a service streams a chat with its API key, sent the way the OpenAI SDK and Basic-auth clients do
  const basic = remember('svc Basic credentials', Buffer.from(`svc:${svcKey}`).toString('base64'))
  for (const auth of [bearer(svcKey), { authorization: `Basic ${basic}` }]) {
    const r = await call(gw, 'POST', '/v1/chat/completions', {
      anonymous: true,
      headers: { ...json, ...auth },
      body: JSON.stringify({ model: 'llama3.2', stream: true, messages: [{ role: 'system', content: `Contact ${PII.email}` }, { role: 'user', content: PROMPT }] })
    })
    expect(r.status).toBe(200)
    expect(r.text).toContain('data: [DONE]')
    expect(r.text).not.toContain(PII.ssn)
  }
  // a monitor key may not chat
  const monitorKey = remember('monitor API key', await gw.createKey('monitor'))
  expect((await call(gw, 'POST', '/api/chat', { anonymous: true, headers: { ...json, ...bearer(monitorKey) }, body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: PROMPT }] }) })).status).toBe(403)

  remember('prompt', PROMPT)
  remember('model output', OUTPUT.join(''))
  remember('model output marker', OUTPUT[0] as string)
  for (const [k, v] of Object.entries(PII)) remember(`PII ${k}`, v)
  remember('PII card digits', PII.card.replace(/\D/g, ''))
  remember('PII phone digits', PII.phone.replace(/\D/g, ''))
  remember('bootstrap admin API key (test helper)', gw.adminKey)
  const s = gw.gateway.secrets
  for (const [label, key] of [['masking key', s.maskingKey], ['audit chain key', s.auditChainKey], ['TOTP encryption key', s.totpKey]] as const) {
    remember(`${label} (hex)`, key.toString('hex'))
    remember(`${label} (base64)`, key.toString('base64').replace(/=+$/, ''))
  }
  remember('JWT signing key', s.jwt.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64').replace(/=+$/, ''))
  remember('checkpoint signing key', s.auditCheckpoint.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64').replace(/=+$/, ''))

  // closing writes the final checkpoint; then every byte the audit trail holds is read
  await gw.close()
  const dir = join(gw.dir, 'logs')
  logFiles = readdirSync(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }))
  events = readFileSync(logPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Ev)
}, 60_000)

afterAll(async () => { await gw?.close().catch(() => {}) })

describe('what the audit trail may not hold', () => {
  it('the scan covers the log and its checkpoint file, and the checkpoint file is not empty', () => {
    expect(logFiles.map((f) => f.name).sort()).toEqual(['audit.log', 'audit.log.checkpoints'])
    for (const f of logFiles) expect(f.bytes.length, f.name).toBeGreaterThan(0)
    expect(secrets.size).toBeGreaterThan(30)
    expect(codes.size).toBe(4)
  })

  it('no password, TOTP secret, token, API key, prompt, output, PII value or key is in any byte, in any encoding', () => {
    expect(logFiles.flatMap((f) => leaksIn(f.name, f.bytes))).toEqual([])
  })

  it('the scan would see a leak: each planted secret, in each encoding, is found', () => {
    const planted = (s: string) => leaksIn('planted', Buffer.from(`{"x":"${s}"}`))
    for (const [label, value] of secrets) {
      for (const form of encodingsOf(value)) expect(planted(form).length, `${label} as ${form}`).toBeGreaterThan(0)
    }
    for (const code of codes.values()) expect(planted(code).length, code).toBeGreaterThan(0)
    expect(planted('a0123456789b')).toEqual([]) // digits inside a longer token are not a code
  })

  it('the log is not just empty of secrets: it recorded the scenario', () => {
    const actions = new Set(events.map((e) => e.event.action))
    const triggered = ['config-loaded', 'user-created', 'mfa-enroll', 'mfa-verify', 'login', 'key-created', 'key-revoked',
      'role-changed', 'user-disabled', 'user-enabled', 'mfa-reset', 'password-changed', 'account-locked', 'account-unlocked',
      'totp-replay', 'logout', 'token-rejected', 'model-request', 'access-denied']
    expect(triggered.filter((a) => !actions.has(a))).toEqual([])
    const chats = events.filter((e) => e.event.action === 'model-request' && e.url.path !== '/api/tags')
    expect(chats.map((e) => [e.url.path, e.gatehouse.credential, e.user.name])).toEqual([
      ['/api/chat', 'session', 'carol'], ['/v1/chat/completions', 'api_key', 'svc-chat'], ['/v1/chat/completions', 'api_key', 'svc-chat']
    ])
    for (const e of chats) expect(e.gatehouse.masked).toEqual({ email: 1, phone: 1, ssn: 1, credit_card: 1 })
    const failed = events.filter((e) => e.event.action === 'login' && e.event.outcome === 'failure')
    expect(failed.filter((e) => e.user?.name === 'bob')).toHaveLength(4)
    expect(events.filter((e) => e.event.action === 'account-locked').map((e) => e.user?.name ?? e.user?.target?.name)).toEqual(['bob'])
    expect(events.filter((e) => e.event.action === 'totp-replay').map((e) => e.user?.name)).toEqual(['root-admin'])
  })
})

describe('every event has the documented fields', () => {
  it('common fields, and a chain linking each event to the one before', () => {
    let prev: Ev | null = null
    for (const e of events) {
      const where = `seq ${String(e.gatehouse?.chain?.seq)} ${String(e.event?.action)}`
      expect(e['@timestamp'], where).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(e.event.kind, where).toBe(e.event.action === 'intrusion-detected' ? 'alert' : 'event')
      expect(Array.isArray(e.event.category) && e.event.category.length > 0, where).toBe(true)
      expect(Array.isArray(e.event.type) && e.event.type.length > 0, where).toBe(true)
      expect(['success', 'failure'], where).toContain(e.event.outcome)
      expect(e.service.name, where).toBe('gatehouse')
      expect(e.gatehouse.chain, where).toMatchObject({ seq: expect.any(Number), prev: expect.stringMatching(/^[0-9a-f]{64}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
      if (prev) {
        expect(e.gatehouse.chain.seq, where).toBe(prev.gatehouse.chain.seq + 1)
        expect(e.gatehouse.chain.prev, where).toBe(prev.gatehouse.chain.hash)
      }
      // everything that came in over HTTP names its request and its source; only the start-up event
      // and the in-process account and key changes standing in for the CLI have neither
      if (e.http?.request?.id !== undefined) {
        expect(e.http.request.id, where).toMatch(/^[0-9a-f-]{36}$/)
        expect(e.source.ip, where).toBe('127.0.0.1')
      } else {
        const subject = e.user?.target?.name ?? e.gatehouse?.key?.name ?? null
        expect([['config-loaded', null], ['user-created', 'root-admin'], ['password-changed', 'carol'], ['key-created', 'test-admin'], ['key-created', 'test-monitor-1']], where)
          .toContainEqual([e.event.action, subject])
      }
      prev = e
    }
  })

  it('request events carry the request fields; admin changes name who did them', () => {
    for (const e of events.filter((x) => x.event.action === 'model-request' || x.event.action === 'access-denied')) {
      const where = `${String(e.event.action)} ${String(e.url?.path)}`
      expect(e.http.request.method, where).toMatch(/^(GET|POST|HEAD|DELETE)$/)
      expect(typeof e.url.path, where).toBe('string')
      expect(typeof e.http.response.status_code, where).toBe('number')
      expect(typeof e.event.duration, where).toBe('number')
      expect(e.gen_ai.request, where).toHaveProperty('model')
      expect(e.gen_ai.usage, where).toHaveProperty('input_tokens')
      expect(e.gen_ai.usage, where).toHaveProperty('output_tokens')
      expect(['allow', 'deny'], where).toContain(e.gatehouse.decision)
      if (e.gatehouse.decision === 'deny') expect(typeof e.gatehouse.reason, where).toBe('string')
      expect(e.gatehouse, where).toHaveProperty('credential')
      expect(typeof e.gatehouse.masked, where).toBe('object')
    }
    const byAdmin = events.filter((e) => e.http?.request?.id !== undefined &&
      ['user-created', 'key-created', 'key-revoked', 'role-changed', 'user-disabled', 'user-enabled', 'mfa-reset', 'account-unlocked'].includes(e.event.action))
    expect(byAdmin.map((e) => [e.event.action, e.user?.name, e.user?.target?.name ?? e.gatehouse?.key?.name])).toEqual([
      ['user-created', 'root-admin', 'carol'], ['user-created', 'root-admin', 'dave'], ['user-created', 'root-admin', 'bob'],
      ['key-created', 'root-admin', 'svc-chat'], ['key-created', 'root-admin', 'svc-spare'], ['key-revoked', 'root-admin', 'svc-spare'],
      ['role-changed', 'root-admin', 'carol'], ['role-changed', 'root-admin', 'carol'], ['user-disabled', 'root-admin', 'dave'],
      ['user-enabled', 'root-admin', 'dave'], ['mfa-reset', 'root-admin', 'carol'], ['account-unlocked', 'root-admin', 'bob']
    ])
  })

  it('`gatehouse audit verify` finds the log intact', async () => {
    const config = join(gw.dir, 'verify.yaml')
    writeFileSync(config, stringify({
      dataDir,
      store: { url: gw.config.store.url },
      tls: { cert: gw.certs.cert, key: gw.certs.key },
      audit: { sinks: [{ type: 'file', path: logPath }] }
    }))
    const r = await cli(['audit', 'verify', logPath, '--config', config, '--json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.json()).toMatchObject({ ok: true, events: events.length })
  })
})
