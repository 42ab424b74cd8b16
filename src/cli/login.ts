// `gatehouse login [--url URL] [--ca FILE] [--export]`: signs a person in through the gateway's
// /auth/login and /auth/mfa and prints the access token, for scripts against the API. On a terminal
// it asks for the username, the password (not echoed) and the TOTP code on stderr; otherwise it reads
// the three from standard input, one per line. The token goes to stdout only.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { Agent, request } from 'undici'
import { errors } from '../errors.js'
import { loadConfig } from '../config/load.js'
import { locateConfig } from '../config/locate.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { ParsedArgs } from './args.js'
import type { Io } from './output.js'

interface Answers { username: string, password: string, code: () => Promise<string> }

/** The gateway's URL and the CA to trust: --url/--ca, else the config's listener and the dev CA beside tls.cert. */
function target (args: ParsedArgs): { url: string, ca: Buffer | null } {
  const flagCa = typeof args.ca === 'string' ? readFileSync(args.ca) : null
  if (typeof args.url === 'string') return { url: args.url.replace(/\/+$/, ''), ca: flagCa }
  const where = locateConfig(typeof args.config === 'string' ? args.config : undefined)
  if (!where.exists) throw new errors.USAGE(`no --url and no configuration file at ${where.path} to take the address from`)
  const c: GatehouseConfig = loadConfig(where.path)
  const host = c.listen.host === '0.0.0.0' || c.listen.host === '::' ? '127.0.0.1' : c.listen.host
  const devCa = join(dirname(c.tls.cert), 'ca.crt')
  return {
    url: `${c.tls.enabled ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${c.listen.port}`,
    ca: flagCa ?? (existsSync(devCa) ? readFileSync(devCa) : null)
  }
}

async function ask (io: Io): Promise<Answers> {
  if (io.readPassword !== undefined) {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const username = (await rl.question('username: ')).trim()
    rl.close()
    const password = await io.readPassword('password: ')
    return {
      username,
      password,
      code: async () => {
        const r = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
        try { return (await r.question('one-time code: ')).trim() } finally { r.close() }
      }
    }
  }
  const lines = (await io.readStdin()).split(/\r?\n/)
  return { username: (lines[0] ?? '').trim(), password: lines[1] ?? '', code: async () => (lines[2] ?? '').trim() }
}

export async function login (args: ParsedArgs, io: Io): Promise<number> {
  const { url, ca } = target(args)
  const dispatcher = new Agent(ca ? { connect: { ca } } : {})
  const post = async (path: string, body: object): Promise<{ status: number, json: Record<string, unknown> }> => {
    const r = await request(url + path, {
      method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
    })
    const text = await r.body.text()
    let json: Record<string, unknown> = {}
    try { json = JSON.parse(text) as Record<string, unknown> } catch { /* not JSON: reported by status */ }
    return { status: r.statusCode, json }
  }
  const refused = (r: { status: number, json: Record<string, unknown> }) =>
    new errors.USAGE(`login refused (${r.status}): ${typeof r.json.error === 'string' ? r.json.error : 'no reason given'}`)
  try {
    const a = await ask(io)
    if (a.username === '' || a.password === '') throw new errors.USAGE('a username and a password are required')
    let r = await post('/auth/login', { username: a.username, password: a.password })
    if (r.status !== 200) throw refused(r)
    if (r.json.status === 'mfa_enrollment_required') {
      throw new errors.USAGE('this account has no one-time code set up yet: ' +
        'sign in once in a browser or with curl (see docs/auth.md) to enroll')
    }
    if (r.json.status === 'mfa_required') {
      r = await post('/auth/mfa', { mfa_token: r.json.mfa_token, code: await a.code() })
      if (r.status !== 200) throw refused(r)
    }
    const token = r.json.access_token
    if (typeof token !== 'string') throw new errors.USAGE('the gateway answered without an access token')
    if (args.json === true) io.out(JSON.stringify({ access_token: token, expires_in: r.json.expires_in ?? null }))
    else io.out(args.export === true ? `export GATEHOUSE_TOKEN=${token}` : token)
    return 0
  } finally {
    await dispatcher.close()
  }
}
