// A running gateway and the `gatehouse` CLI's account commands write one audit file sink, each its
// own chain. Once the files holding the CLI's first events expire, the retention sweep deletes them
// (anchoring the CLI's chain with a signed retention checkpoint, recorded through the gateway's
// audit log), and `gatehouse audit verify` passes on what remains — and fails once that checkpoint
// is tampered with. The sweep runs on a clock of its own, 25 days on: moving the gateway's clock
// that far would fire its one-second timers millions of times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { stringify } from 'yaml'
import { createRetentionSweep } from '../../src/ops/retention-sweep.js'
import { loadSecrets } from '../../src/config/secrets.js'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { manualClock } from '../helpers/clock.js'
import { cli } from '../helpers/cli.js'

const DAY = 86_400_000
const HOUR = 3_600_000
let gw: TestGateway
let configFile: string
let logPath: string
const start = Date.now()
const clock = manualClock(start)
const run = (args: string[], stdin?: string) => cli([...args, '--config', configFile], stdin)
const logFiles = () => readdirSync(join(gw.dir, 'logs')).filter((n) => n.startsWith('audit.log') && !n.endsWith('.checkpoints'))
  .map((n) => join(gw.dir, 'logs', n))
const cpFile = () => logPath + '.checkpoints'
const cpLines = () => readFileSync(cpFile(), 'utf8').split('\n').filter((l) => l !== '')
const chainsIn = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l) as { event: { action: string }, gatehouse: { chain: { replica: string, seq: number }, retention?: unknown } })

async function gatewayEvents (n: number): Promise<void> {
  for (let i = 0; i < n; i++) gw.gateway.audit.emit({ action: 'login', outcome: 'failure', userName: 'mallory', sourceIp: '203.0.113.9', reason: 'bad_password' })
  await gw.gateway.audit.flush()
}

/**
 * Gateway events until the active file has just been rotated: a CLI command then has room and does
 * not rotate the file itself (its clock is the system's, not the test's).
 */
async function roomForCli (): Promise<void> {
  for (let i = 0; i < 50 && (!existsSync(logPath) || statSync(logPath).size > 1024); i++) await gatewayEvents(1)
  expect(statSync(logPath).size).toBeLessThanOrEqual(1024)
}

beforeAll(async () => {
  const audit = { sinks: [{ type: 'file', path: 'logs/audit.log', maxBytes: 4096 }], retentionDays: 25 }
  gw = await startTestGateway({ audit }, { clock })
  logPath = join(gw.dir, 'logs', 'audit.log')
  configFile = join(gw.dir, 'cli.yaml')
  writeFileSync(configFile, stringify({
    dataDir: gw.config.dataDir,
    store: { url: gw.config.store.url },
    tls: { cert: gw.certs.cert, key: gw.certs.key },
    audit: { ...audit, sinks: [{ type: 'file', path: logPath, maxBytes: 4096 }] }
  }))
})
afterAll(async () => { await gw?.close() })

describe('retention over the gateway\'s and the CLI\'s chains in one file', () => {
  it('deletes the expired files with the CLI\'s first events; audit verify passes on the rest, and fails once the retention checkpoint is tampered with', async () => {
    await roomForCli()
    expect((await run(['user', 'add', 'alice', '--role', 'user', '--password-stdin'], 'violet-harbor-cinnamon-42\n')).code).toBe(0)
    await gatewayEvents(20)
    const oldest = logFiles().filter((f) => f !== logPath).sort()[0] as string
    const cliReplica = chainsIn(oldest).map((e) => e.gatehouse.chain.replica).find((r) => r.endsWith('-cli'))
    expect(cliReplica).toBeDefined()

    // an hour later the CLI writes again: its chain goes on in files rotated then
    clock.advance(HOUR)
    await gatewayEvents(10)
    await roomForCli()
    expect((await run(['user', 'disable', 'alice'])).code).toBe(0)
    await gatewayEvents(20)

    const secrets = loadSecrets(gw.config)
    const sweep = createRetentionSweep({
      config: gw.config,
      store: { purgeEnded: async () => ({ sessions: 0, apiKeys: 0 }) },
      emit: (e) => gw.gateway.audit.emit(e),
      clock: manualClock(start + 25 * DAY + HOUR / 2),
      keys: { chainKey: secrets.auditChainKey, checkpointPublicKey: secrets.auditCheckpoint.publicKey, checkpointKey: secrets.auditCheckpoint.privateKey }
    })
    const report = await sweep.run()
    await sweep.close()
    await gw.gateway.audit.flush()
    const removed = report.audit[0]?.removed ?? []
    expect(report.audit[0]?.kept).toBeUndefined()
    expect(removed).toContain(basename(oldest))
    expect(existsSync(oldest)).toBe(false)

    // the audit-retention event names the rotation anchor and the CLI chain's retention anchor
    const retentionEvents = logFiles().flatMap(chainsIn).filter((e) => e.event.action === 'audit-retention')
    expect(retentionEvents).toHaveLength(1)
    expect(retentionEvents[0]?.gatehouse.retention).toMatchObject({
      removed,
      anchors: [expect.objectContaining({ kind: 'rotation' }), expect.objectContaining({ kind: 'retention', replica: cliReplica })]
    })

    const verify = await run(['audit', 'verify', ...logFiles()])
    expect(verify.err).toBe('')
    expect(verify.code).toBe(0)
    expect(verify.out).toMatch(new RegExp(`note: replica ${cliReplica}: starts at seq \\d+, anchored by the signed retention checkpoint`))

    // tampered: the anchor's hash edited, then the anchor removed
    const original = cpLines()
    const at = original.findIndex((l) => JSON.parse(l).retention === true)
    expect(at).toBeGreaterThanOrEqual(0)
    const edited = JSON.parse(original[at] as string)
    edited.hash = 'f'.repeat(64)
    writeFileSync(cpFile(), original.map((l, i) => (i === at ? JSON.stringify(edited) : l) + '\n').join(''))
    const forged = await run(['audit', 'verify', ...logFiles()])
    expect(forged.code).toBe(1)
    expect(forged.err).toMatch(/forged_checkpoint/)
    writeFileSync(cpFile(), original.filter((_, i) => i !== at).map((l) => l + '\n').join(''))
    const unanchored = await run(['audit', 'verify', ...logFiles()])
    expect(unanchored.code).toBe(1)
    expect(unanchored.err).toMatch(new RegExp(`chain_start: replica ${cliReplica} starts at seq`))
    writeFileSync(cpFile(), original.map((l) => l + '\n').join(''))
  })
})
