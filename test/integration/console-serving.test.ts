// /console/ serves the built console with its security headers on every answer (pages, assets,
// misses), and the bundle stays small. Needs `npm run build` (the console's assets).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { consoleAssetsDir } from '../../src/console/routes.js'

let gw: TestGateway
beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw.close() })

describe('serving the console', () => {
  it('is built (npm run build), and its JavaScript is under 150 KB gzip-compressed', () => {
    const dir = consoleAssetsDir()
    expect(dir, 'run npm run build first').not.toBeNull()
    const js = readFileSync(join(dir as string, 'app.js'))
    expect(gzipSync(js, { level: 9 }).length).toBeLessThan(150 * 1024)
  })

  it('every answer under /console carries the CSP, nosniff and no-referrer headers', async () => {
    for (const path of ['/console/', '/console/app.js', '/console/style.css', '/console/favicon.svg', '/console/nope.js', '/console/..%2f', '/console']) {
      const r = await call(gw, 'GET', path, { anonymous: true })
      if (path === '/console/..%2f') { expect(r.status).toBe(404); continue } // refused before routing
      expect(r.headers['content-security-policy'], path).toMatch(/^default-src 'self'; frame-ancestors 'none'/)
      expect(String(r.headers['content-security-policy']), path).not.toMatch(/unsafe-inline|unsafe-eval/)
      expect(r.headers['x-content-type-options'], path).toBe('nosniff')
      expect(r.headers['referrer-policy'], path).toBe('no-referrer')
    }
  })

  it('the page loads only its own files: no inline script or style, nothing from another origin', async () => {
    const html = (await call(gw, 'GET', '/console/', { anonymous: true })).text
    expect(html).toContain('<script type="module" src="/console/app.js">')
    expect(html).not.toMatch(/<script>(?!<)|<style|style=|https?:\/\//)
    const js = (await call(gw, 'GET', '/console/app.js', { anonymous: true })).text
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\/[^"'\s]*\.(?:js|css|woff2?)/)
  })

  it('an unknown file is a 404 and never another file', async () => {
    expect((await call(gw, 'GET', '/console/index.htm', { anonymous: true })).status).toBe(404)
    expect((await call(gw, 'GET', '/console/.env', { anonymous: true })).status).toBe(404)
  })
})
