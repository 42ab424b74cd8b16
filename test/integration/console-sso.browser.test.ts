// The console with single sign-on on, in a real browser (Debian's chromium): the sign-in page offers
// the IdP's button, and the TOTP step the callback hands over in the URL fragment is taken up by the
// page (and cleared from the address bar), so a person whose IdP did no MFA finishes in the console.
// The IdP round trip itself is covered against a real OpenID Provider in sso-oidc.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const available = existsSync(CHROMIUM)
if (!available && process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`)

let sso: TestGateway
let plain: TestGateway
let context: BrowserContext
let dir: string
const problems: string[] = []

async function page (): Promise<Page> {
  const p = await context.newPage()
  p.on('pageerror', (e) => problems.push(e.message))
  return p
}

beforeAll(async () => {
  if (!available) return
  sso = await startTestGateway({
    auth: {
      oidc: {
        enabled: true, issuer: 'http://127.0.0.1:9/realms/test', clientId: 'gatehouse',
        redirectUri: 'https://127.0.0.1:8443/auth/oidc/callback', roleMapping: { 'ollama-users': 'user' }
      }
    }
  })
  plain = await startTestGateway()
  dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'))
  context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: ARGS, headless: true, ignoreHTTPSErrors: true })
  context.setDefaultTimeout(15_000)
}, 60_000)
afterAll(async () => {
  await context?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  await sso?.close()
  await plain?.close()
})

describe.skipIf(!available)('the console with single sign-on', () => {
  it('GET /auth/methods says whether single sign-on is on', async () => {
    expect(JSON.parse((await call(sso, 'GET', '/auth/methods', { anonymous: true })).text)).toEqual({ password: true, sso: true })
    expect(JSON.parse((await call(plain, 'GET', '/auth/methods', { anonymous: true })).text)).toEqual({ password: true, sso: false })
  })

  it('offers the single sign-on button only when it is on', async () => {
    const p = await page()
    await p.goto(`${sso.url}/console/`)
    const button = p.getByRole('link', { name: 'Sign in with single sign-on' })
    await expect.poll(() => button.getAttribute('href')).toBe('/auth/oidc/login')
    const q = await page()
    await q.goto(`${plain.url}/console/`)
    await q.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await q.getByRole('link', { name: 'Sign in with single sign-on' }).count()).toBe(0)
  })

  it('takes up the TOTP step handed over in the fragment, and clears it from the address bar', async () => {
    const p = await page()
    await p.goto(`${sso.url}/console/#status=mfa_required&mfa_token=handed-over`)
    await p.getByLabel('6-digit code').waitFor()
    expect(new URL(p.url()).hash).toBe('')
  })

  it('shows the QR code and the secret for an enrollment handed over in the fragment', async () => {
    const p = await page()
    const otpauth = 'otpauth://totp/Gatehouse:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Gatehouse'
    await p.goto(`${sso.url}/console/#${new URLSearchParams({ status: 'mfa_enrollment_required', mfa_token: 't', otpauth_url: otpauth })}`)
    await expect.poll(() => p.getByTestId('totp-secret').textContent()).toBe('JBSWY3DPEHPK3PXPJBSWY3DP')
    expect(problems).toEqual([])
  })

  it('ignores a fragment that is not a TOTP step (no script URL, no made-up status)', async () => {
    const p = await page()
    await p.goto(`${sso.url}/console/#status=ok&mfa_token=x&otpauth_url=javascript:alert(1)`)
    await p.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await p.getByLabel('6-digit code').count()).toBe(0)
  })
})
