// bin/healthcheck.js is the container's HEALTHCHECK (no curl in the image): exit 0 when /healthz
// answers 200 over TLS with a certificate it does not verify, 1 when nothing listens or the answer
// is not 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

const PROBE = join(import.meta.dirname, '../../bin/healthcheck.js')
let gw: TestGateway

beforeAll(async () => { gw = await startTestGateway() })
afterAll(async () => { await gw?.close() })

function probe (url: string): Promise<{ code: number | null, stderr: string }> {
  return new Promise((resolve) => {
    // NODE_EXTRA_CA_CERTS unset: the test CA is not trusted, as in the container with a real certificate
    const env = { ...process.env, GATEHOUSE_HEALTHCHECK_URL: url, NODE_EXTRA_CA_CERTS: '' }
    const child = spawn(process.execPath, [PROBE], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('exit', (code) => resolve({ code, stderr }))
  })
}

describe('container health check', () => {
  it('exits 0 for a serving gateway over TLS, without trusting its CA', async () => {
    expect(await probe(`https://127.0.0.1:${gw.port}/healthz`)).toEqual({ code: 0, stderr: '' })
  })
  it('exits 1 when the answer is not 200', async () => {
    expect((await probe(`https://127.0.0.1:${gw.port}/no-such-path`)).code).toBe(1)
  })
  it('exits 1 and says why when nothing listens', async () => {
    const s = createServer()
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    const port = (s.address() as { port: number }).port
    await new Promise((resolve) => s.close(resolve))
    const r = await probe(`https://127.0.0.1:${port}/healthz`)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ECONNREFUSED/)
  })
})
