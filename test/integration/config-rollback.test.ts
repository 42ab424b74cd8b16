// Change management end to end: start the real binary with a configuration, change it, roll it
// back. `config diff` (the command line, run in-process) shows the change both ways, each start
// succeeds, and every config-loaded event names the configuration it replaced, so the audit trail
// holds the chain A → B → A.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startServe } from '../helpers/process.js'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { cli, tempConfig } from '../helpers/cli.js'
import { loadConfig, configHash } from '../../src/config/load.js'

let fake: FakeOllama
let dir: string
let fileA: string
let fileB: string

const base = (upstream: string) => ({
  listen: { host: '127.0.0.1', port: 0 }, tls: { enabled: false }, upstream: { url: upstream },
  audit: { sinks: [{ type: 'file', path: '../logs/audit.log' }] }
})

async function startAndStop (file: string): Promise<void> {
  const served = await startServe(file)
  // a served request first: SIGTERM in the instant after the listening line can beat serve's signal handler
  expect((await fetch(served.url + '/healthz')).status).toBe(200)
  served.child.kill('SIGTERM')
  expect(await served.exit).toBe(0)
}

const configEvents = () => readFileSync(join(dir, 'logs', 'audit.log'), 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l) as { event: { action: string }, gatehouse: { config?: { hash: string, previous_hash?: string | null } } })
  .filter((e) => e.event.action === 'config-loaded').map((e) => e.gatehouse.config)

beforeAll(async () => {
  fake = await startFakeOllama()
  dir = tempConfig().dir
  mkdirSync(join(dir, 'config'))
  fileA = join(dir, 'config', 'gatehouse.yaml')
  fileB = join(dir, 'config', 'gatehouse.next.yaml')
  writeFileSync(fileA, stringify(base(fake.url)))
  writeFileSync(fileB, stringify({ ...base(fake.url), auth: { lockout: { maxFailedAttempts: 50 } }, rateLimit: { requestsPerMinute: 120 } }))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('a configuration change and its rollback', () => {
  it('config diff A → B names the changed keys and the check that starts failing (exit 1)', async () => {
    const r = await cli(['config', 'diff', fileA, fileB])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^ {2}auth\.lockout\.maxFailedAttempts: 3 → 50$/m)
    expect(r.out).toMatch(/^ {2}rateLimit\.requestsPerMinute: 600 → 120$/m)
    expect(r.out).toMatch(/^ {2}PASS → FAIL {2}CC6\.1 {2}lockout/m)
  })

  it('config diff B → A (the rollback) shows the same keys reversed and no newly failing check (exit 0)', async () => {
    const r = await cli(['config', 'diff', fileB, fileA, '--json'])
    expect(r.code).toBe(0)
    const d = JSON.parse(r.out) as { changes: unknown[], checks: unknown[], newlyFailing: boolean }
    expect(d.changes).toEqual([
      { path: 'auth.lockout.maxFailedAttempts', old: 50, new: 3 },
      { path: 'rateLimit.requestsPerMinute', old: 120, new: 600 }
    ])
    expect(d.checks).toEqual([expect.objectContaining({ id: 'lockout', old: 'fail', new: 'pass' })])
    expect(d.newlyFailing).toBe(false)
  })

  it('a file that is not a valid configuration is exit 2 with its problems, nothing compared', async () => {
    const bad = join(dir, 'config', 'bad.yaml')
    writeFileSync(bad, 'rateLimit:\n  requestsPerMinute: 0\n')
    const r = await cli(['config', 'diff', fileA, bad])
    expect(r.code).toBe(2)
    expect(r.err).toContain('rateLimit.requestsPerMinute: must be >= 1')
    expect(r.out).toBe('')
  })

  it('starts with A, then B, then A again; each config-loaded event names the previous configuration', async () => {
    const a = configHash(loadConfig(fileA))
    const b = configHash(loadConfig(fileB))
    await startAndStop(fileA)
    await startAndStop(fileB)
    await startAndStop(fileA)
    expect(configEvents()).toEqual([
      { hash: a, previous_hash: null },
      { hash: b, previous_hash: a },
      { hash: a, previous_hash: b }
    ])
    // the events carrying the chain verify like any other
    const v = await cli(['audit', 'verify', '--config', fileA, join(dir, 'logs', 'audit.log')])
    expect(v.err).toBe('')
    expect(v.code).toBe(0)
  })
})
