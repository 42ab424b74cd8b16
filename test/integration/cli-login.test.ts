// `gatehouse login`: username, password and one-time code in (here through a pipe: one per line on
// standard input), the access token out on stdout — bare, as a shell export, or as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { loginWithMfa } from '../helpers/login.js'
import { totpCodeAt } from '../helpers/totp.js'
import { cli } from '../helpers/cli.js'

let gw: TestGateway
let secret: string
let secret2: string
const PASSWORD = 'violet-harbor-cinnamon-42'
beforeAll(async () => {
  gw = await startTestGateway()
  await gw.gateway.auth.userAdmin.addUser('scripter', 'user', PASSWORD)
  secret = (await loginWithMfa(gw, 'scripter', PASSWORD)).secret
  await gw.gateway.auth.userAdmin.addUser('exporter', 'user', PASSWORD)
  secret2 = (await loginWithMfa(gw, 'exporter', PASSWORD)).secret
})
afterAll(async () => { await gw.close() })

const me = async (token: string) => (await call(gw, 'GET', '/auth/me', { anonymous: true, headers: { authorization: `Bearer ${token}` } })).json

describe('gatehouse login', () => {
  it('prints an access token that works, and nothing else on stdout', async () => {
    const code = await totpCodeAt(secret, Date.now() + 30_000)
    const r = await cli(['login', '--url', gw.url, '--ca', gw.certs.caCert], `scripter\n${PASSWORD}\n${code}\n`)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const token = r.out.trim()
    expect(token.split('\n')).toHaveLength(1)
    expect(await me(token)).toMatchObject({ username: 'scripter', amr: expect.arrayContaining(['pwd', 'otp']) })
  })
  it('--export prints a line for a shell to eval', async () => {
    const code = await totpCodeAt(secret2, Date.now() + 30_000)
    const r = await cli(['login', '--url', gw.url, '--ca', gw.certs.caCert, '--export'], `exporter\n${PASSWORD}\n${code}\n`)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^export GATEHOUSE_TOKEN=[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(await me(r.out.trim().slice('export GATEHOUSE_TOKEN='.length))).toMatchObject({ username: 'exporter' })
  })
  it('a wrong password is exit 2 with the gateway\'s reason, no token', async () => {
    const r = await cli(['login', '--url', gw.url, '--ca', gw.certs.caCert], 'scripter\nwrong-password-x\n000000\n')
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toBe('gatehouse: login refused (401): invalid username or password\n')
  })
  it('a wrong code is exit 2, no token', async () => {
    const r = await cli(['login', '--url', gw.url, '--ca', gw.certs.caCert], `scripter\n${PASSWORD}\n000000\n`)
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toBe('gatehouse: login refused (401): invalid code\n')
  })
})
