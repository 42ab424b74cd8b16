// The web console in a real browser (Debian's chromium, driven by playwright-core): the bootstrap
// admin's first sign-in end to end, users, API keys used against the proxied API, the audit page,
// a non-admin who sees only "my account", no console error or CSP violation anywhere, a cross-origin
// POST with the cookie refused, and every page at a phone width. Screenshots go to test-artifacts/.
// Needs `npm run build` (the console's assets) and /usr/bin/chromium; with CI=true it always runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { request } from 'undici'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { totpCodeAt } from '../helpers/totp.js'
import { eventually } from '../helpers/eventually.js'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console')
const available = existsSync(CHROMIUM)
const NEW_ADMIN_PASSWORD = 'granite-orchard-velvet-58'
const BOB_PASSWORD = 'saffron-meadow-copper-31'

let gw: TestGateway
const contexts: BrowserContext[] = []
const dirs: string[] = []
/** every console error, page error and CSP report seen by any page */
const problems: string[] = []

async function newPage (width = 1280, height = 900): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'))
  dirs.push(dir)
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: ARGS, headless: true, ignoreHTTPSErrors: true, viewport: { width, height }
  })
  contexts.push(context)
  context.setDefaultTimeout(15_000)
  const page = context.pages()[0] ?? await context.newPage()
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // an API answer the page handles and shows (401 before sign-in, 403 for a non-admin, 404 for a
    // route this gateway lacks) is logged by the browser as a failed load; a missing asset is not excused
    const api = /^\/(?:auth|admin)\//.test(new URL(m.location().url || page.url()).pathname)
    if (api && m.text().startsWith('Failed to load resource: the server responded with a status of 4')) return
    problems.push(`${page.url()}: ${m.text()} (${m.location().url})`)
  })
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`))
  page.on('dialog', (d) => { void d.accept() })
  return page
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

async function signIn (page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${gw.url}/console/`)
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** one-time password → new password → TOTP enrollment with the secret shown on the page */
async function firstSignIn (page: Page, username: string, oneTime: string, chosen: string, name: string): Promise<void> {
  await signIn(page, username, oneTime)
  await page.getByLabel('New password', { exact: true }).fill(chosen)
  await page.getByLabel('New password again').fill(chosen)
  if (name !== '') await shot(page, `${name}-change-password`)
  await page.getByRole('button', { name: 'Set password' }).click()
  const secret = (await page.getByTestId('totp-secret').textContent()) ?? ''
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
  await expect.poll(() => page.locator('canvas.qr').evaluate((c) => (c as unknown as { width: number }).width)).toBeGreaterThan(100)
  if (name !== '') await shot(page, `${name}-enroll`)
  if (username === 'bob') bobSecret = secret
  await page.getByLabel('6-digit code').fill(await totpCodeAt(secret, Date.now()))
  await page.getByRole('button', { name: 'Verify' }).click()
}

/** runs in the page: how wide the document is (wider than the viewport means a sideways scroll) */
const PAGE_WIDTH = 'document.documentElement.scrollWidth'

let admin: Page
let adminPassword = ''

describe.skipIf(!available && process.env.CI !== 'true')('the web console in a browser', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    gw = await startTestGateway()
    const lines: string[] = []
    await gw.gateway.auth.ensureBootstrapAdmin((l) => lines.push(l))
    adminPassword = /One-time password[^:]*:\s*(\S+)/.exec(lines.join('\n'))?.[1] ?? ''
    expect(adminPassword).not.toBe('')
    admin = await newPage()
  }, 60_000)
  afterAll(async () => {
    for (const c of contexts) await c.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    await gw?.close()
  })

  it('the bootstrap admin signs in: one-time password, new password, QR enrollment, then the users page', async () => {
    await admin.goto(`${gw.url}/console/`)
    await admin.getByRole('button', { name: 'Sign in' }).waitFor()
    await shot(admin, 'signin')
    await firstSignIn(admin, 'admin', adminPassword, NEW_ADMIN_PASSWORD, 'admin')
    await admin.getByRole('heading', { name: 'Users', exact: true }).waitFor()
    await expect.poll(() => admin.locator('tr[data-user="admin"]').count()).toBe(1)
    expect(await admin.getByRole('link', { name: 'Audit' }).count()).toBe(1)
    expect((await gw.gateway.auth.userAdmin.getUser('admin')).passwordMustChange).toBe(false)
    await shot(admin, 'users')
  })

  it('adding a user shows its one-time password once', async () => {
    await admin.getByRole('form', { name: 'Add a user' }).getByLabel('Username').fill('bob')
    await admin.getByRole('form', { name: 'Add a user' }).getByLabel('Role').fill('user')
    await admin.getByRole('button', { name: 'Add user' }).click()
    const otp = (await admin.getByTestId('one-time-password').textContent()) ?? ''
    expect(otp.length).toBeGreaterThanOrEqual(16)
    await shot(admin, 'users-added')
    await admin.getByRole('button', { name: 'Done' }).click()
    expect(await admin.getByTestId('one-time-password').count()).toBe(0)
    await admin.reload()
    await admin.locator('tr[data-user="bob"]').waitFor()
    expect(await admin.content()).not.toContain(otp)
    bobOneTime = otp
  })

  it('an admin sets a one-time password for a user and deletes a user, as the CLI does', async () => {
    await gw.gateway.auth.userAdmin.addUser('carol', 'user', 'violet-harbor-cinnamon-42')
    await admin.reload()
    const row = admin.locator('tr[data-user="carol"]')
    await row.getByLabel('One-time password').fill('cobalt-meadow-lantern-93')
    await row.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(async () => (await gw.gateway.store.getUser('carol'))?.passwordMustChange).toBe(true)
    await admin.locator('tr[data-user="carol"]').getByRole('button', { name: 'Delete' }).click()
    await expect.poll(async () => await gw.gateway.store.getUser('carol')).toBeNull()
    await admin.locator('tr[data-user="carol"]').waitFor({ state: 'detached' })
  })

  it('an API key is created (shown once), works against the proxied API, and stops working once revoked', async () => {
    await admin.getByRole('link', { name: 'API keys' }).click()
    await admin.getByRole('heading', { name: 'API keys' }).waitFor()
    const form = admin.getByRole('form', { name: 'Create a key' })
    await form.getByLabel('Name').fill('console-svc')
    await form.getByLabel('Role').fill('user')
    await admin.getByRole('button', { name: 'Create key' }).click()
    const key = (await admin.getByTestId('api-key').textContent()) ?? ''
    expect(key).toMatch(/^ghk_/)
    await shot(admin, 'keys-created')
    const use = async () => (await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${key}` } })).status
    expect(await use()).toBe(200)
    await admin.locator('tr[data-key="console-svc"]').getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => admin.locator('tr[data-key="console-svc"] td').nth(3).textContent()).toBe('revoked')
    expect(await use()).toBe(401)
    await shot(admin, 'keys')
  })

  it('rotating a key shows the new key once; both work during the grace period', async () => {
    const form = admin.getByRole('form', { name: 'Create a key' })
    await form.getByLabel('Name').fill('rotated-svc')
    await form.getByLabel('Role').fill('user')
    await admin.getByRole('button', { name: 'Create key' }).click()
    const oldKey = (await admin.getByTestId('api-key').textContent()) ?? ''
    expect(oldKey).toMatch(/^ghk_/)
    await admin.getByRole('button', { name: 'Done' }).click()
    await admin.locator('tr[data-key="rotated-svc"]').first().getByRole('button', { name: 'Rotate' }).click()
    const newKey = (await admin.getByTestId('api-key').textContent()) ?? ''
    expect(newKey).toMatch(/^ghk_/)
    expect(newKey).not.toBe(oldKey)
    await shot(admin, 'keys-rotated')
    await admin.getByRole('button', { name: 'Done' }).click()
    const use = async (k: string) => (await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${k}` } })).status
    expect(await use(newKey)).toBe(200)
    expect(await use(oldKey)).toBe(200) // the old key lives until its grace ends
  })

  it('an admin lists a user\'s sessions and can end one', async () => {
    await admin.getByRole('link', { name: 'Users' }).click()
    const row = admin.locator('tr[data-user="admin"]')
    await row.getByRole('button', { name: 'Sessions' }).click()
    await admin.getByRole('button', { name: 'End' }).first().waitFor()
    expect(await admin.getByRole('button', { name: 'End' }).count()).toBeGreaterThan(0)
    await row.getByRole('button', { name: 'Sessions' }).click()
  })

  it('the audit page lists those actions newest first, and the chain verifies', async () => {
    await admin.getByRole('link', { name: 'Audit' }).click()
    await admin.getByTestId('chain-status').waitFor()
    expect(await admin.getByTestId('chain-status').textContent()).toContain('Chain verifies')
    await eventually(async () => {
      await admin.getByRole('button', { name: 'Show' }).click()
      const actions = await admin.locator('tbody tr td:nth-child(2)').allTextContents()
      const revoked = actions.indexOf('key-revoked')
      expect(revoked).toBeGreaterThanOrEqual(0)
      expect(actions.lastIndexOf('key-created')).toBeGreaterThan(revoked) // the first key was created before it was revoked
      expect(actions).toContain('user-created')
      expect(actions).toContain('password-changed')
    }, { timeoutMs: 10_000 })
    await admin.getByLabel('Action').fill('user-created')
    await admin.getByRole('button', { name: 'Show' }).click()
    await expect.poll(async () => [...new Set(await admin.locator('tbody tr td:nth-child(2)').allTextContents())]).toEqual(['user-created'])
    await shot(admin, 'audit')
  })

  it('the other admin pages render: upstreams, usage (a chart of the tokens used above), compliance, my account', async () => {
    // the key's requests above left usage records; the writer batches them, so write them now
    await gw.gateway.flushUsage()
    for (const [link, heading] of [['Upstreams', 'Upstream hosts'], ['Usage', 'Usage'], ['Compliance', 'Compliance'], ['My account', 'My account']]) {
      await admin.getByRole('link', { name: link }).click()
      await admin.getByRole('heading', { name: heading, exact: true }).waitFor()
      if (link === 'Compliance') await admin.locator('table, .error').first().waitFor()
      if (link === 'Usage') {
        await admin.locator('.chart canvas').first().waitFor()
        await expect.poll(() => admin.locator('table tbody tr').count()).toBeGreaterThan(0)
        await admin.getByLabel('Group by').selectOption('key')
        await expect.poll(async () => (await admin.locator('table thead th').allTextContents())[0]).toBe('key')
      }
      await shot(admin, (link as string).toLowerCase().replace(' ', '-'))
    }
  })

  it('a cross-origin POST carrying the session cookie is refused', async () => {
    const cookie = (await contexts[0]!.cookies()).find((c) => c.name === '__Host-gatehouse')
    expect(cookie).toBeDefined()
    const res = await request(`${gw.url}/admin/users`, {
      method: 'POST', dispatcher: gw.dispatcher,
      headers: { cookie: `__Host-gatehouse=${cookie!.value}`, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mallory', role: 'admin' })
    })
    expect(res.statusCode).toBe(403)
    await res.body.dump()
    await expect(gw.gateway.auth.userAdmin.getUser('mallory')).rejects.toMatchObject({ code: 'GH_ERR_NOT_FOUND' })
  })

  it('a non-admin sees only "my account", at a phone width too', async () => {
    const bob = await newPage(390, 844)
    await firstSignIn(bob, 'bob', bobOneTime, BOB_PASSWORD, '')
    await bob.getByRole('heading', { name: 'My account' }).waitFor()
    const links = await bob.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()
    expect(links).toEqual(['My account'])
    await bob.goto(`${gw.url}/console/#/users`)
    await bob.getByRole('heading', { name: 'My account' }).waitFor()
    expect(await bob.evaluate(PAGE_WIDTH)).toBeLessThanOrEqual(390)
    await bob.getByText('(this one)').waitFor()
    await shot(bob, 'phone-account-non-admin')
    // the session ends elsewhere (an admin ends it): the next load lands on the sign-in page with a message
    for (const s of await gw.gateway.auth.userAdmin.listSessions('bob')) await gw.gateway.auth.userAdmin.revokeSession(s.id)
    await bob.reload()
    await bob.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await bob.getByRole('status').textContent()).toContain('Your session has ended')
    // signing in again, then out everywhere
    await signIn(bob, 'bob', BOB_PASSWORD)
    await bob.getByLabel('6-digit code').fill(await totpCodeAt(bobSecret, Date.now() + 30_000))
    await bob.getByRole('button', { name: 'Verify' }).click()
    await bob.getByRole('button', { name: 'Sign out everywhere' }).click()
    await bob.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await gw.gateway.auth.userAdmin.listSessions('bob').then((l) => l.filter((x) => x.revokedAt === null).length)).toBe(0)
  })

  it('every admin page fits a phone width', async () => {
    await admin.setViewportSize({ width: 390, height: 844 })
    for (const p of ['users', 'keys', 'upstreams', 'usage', 'audit', 'compliance', 'account']) {
      await admin.goto(`${gw.url}/console/#/${p}`)
      await admin.locator('main h1').waitFor()
      expect(await admin.evaluate(PAGE_WIDTH), p).toBeLessThanOrEqual(390)
      await shot(admin, `phone-${p}`)
    }
    // signing out ends the session and clears the cookie
    await admin.getByRole('button', { name: 'Sign out', exact: true }).click()
    await admin.getByRole('button', { name: 'Sign in' }).waitFor()
    expect((await contexts[0]!.cookies()).some((c) => c.name === '__Host-gatehouse')).toBe(false)
  })

  it('no page logged a console error or a CSP violation', () => {
    expect(problems).toEqual([])
  })
})

let bobOneTime = ''
let bobSecret = ''
