// The fleet runtime against real sockets: several fake Ollama hosts, each with its own models.
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeOllama, type FakeOllama } from '../helpers/fake-ollama.js'
import { createFleet, type Fleet, type FleetSettings } from '../../src/fleet/fleet.js'
import { manualClock } from '../helpers/clock.js'

const open: Array<{ close: () => Promise<void> }> = []
afterEach(async () => { for (const o of open.splice(0).reverse()) await o.close() })

async function hosts (models: string[][], loaded?: string[][]): Promise<FakeOllama[]> {
  const fakes: FakeOllama[] = []
  for (const [i, m] of models.entries()) {
    const f = await startFakeOllama()
    f.script.models = m
    f.script.loaded = loaded?.[i] ?? []
    open.push(f)
    fakes.push(f)
  }
  return fakes
}

function settings (fakes: FakeOllama[], over: Partial<FleetSettings> = {}): FleetSettings {
  return {
    hosts: fakes.map((f, i) => ({ name: `gpu-${String.fromCharCode(97 + i)}`, url: f.url })),
    connectTimeoutMs: 1000, headersTimeoutMs: 2000, idleTimeoutMs: 2000,
    discoveryIntervalMs: 60_000, healthIntervalMs: 60_000,
    failuresToEject: 2, cooldownMs: 30_000, queueTimeoutMs: 200,
    ...over
  }
}

function fleetOf (s: FleetSettings, clock = manualClock()): Fleet {
  const fleet = createFleet(s, clock)
  open.push(fleet)
  return fleet
}

const leaseHost = async (fleet: Fleet, model: string): Promise<string> => {
  const got = await fleet.acquire(model)
  if (got.kind !== 'lease') return got.kind
  got.lease.release('success')
  return got.lease.host.name
}

describe('a fleet of Ollama hosts', () => {
  it('learns each host\'s models and loaded models from /api/tags and /api/ps', async () => {
    const fakes = await hosts([['llama3.2:latest', 'qwen2.5:7b'], ['mistral:7b']], [['qwen2.5:7b'], []])
    const fleet = fleetOf(settings(fakes))
    await fleet.discover()
    expect([...fleet.hosts[0]?.models ?? []]).toEqual(['llama3.2:latest', 'qwen2.5:7b'])
    expect([...fleet.hosts[0]?.loaded ?? []]).toEqual(['qwen2.5:7b'])
    expect([...fleet.hosts[1]?.models ?? []]).toEqual(['mistral:7b'])
    for (const f of fakes) expect(f.received.map((r) => r.url).sort()).toEqual(['/api/ps', '/api/tags'])
  })

  it('routes by model and contacts no host for a model none has', async () => {
    const fakes = await hosts([['llama3.2:latest'], ['mistral:7b']])
    const fleet = fleetOf(settings(fakes))
    await fleet.discover()
    expect(await leaseHost(fleet, 'mistral:7b')).toBe('gpu-b')
    expect(await leaseHost(fleet, 'llama3.2:latest')).toBe('gpu-a')
    expect(await leaseHost(fleet, 'phi3:latest')).toBe('absent')
  })

  it('a host whose model list cannot be read takes no requests, and counts a failure', async () => {
    const fakes = await hosts([['llama3.2:latest'], ['llama3.2:latest']])
    fakes[0]!.script.rawReply = { contentType: 'application/json', body: '{"models":"nope"}' }
    const fleet = fleetOf(settings(fakes))
    await fleet.discover()
    expect(fleet.hosts[0]?.models).toBeNull()
    expect(fleet.hosts[0]?.lastError).toMatch(/discovery/)
    for (let i = 0; i < 3; i++) expect(await leaseHost(fleet, 'llama3.2:latest')).toBe('gpu-b')
  })

  it('waits for a slot when every host is at maxConcurrent, then gives up with busy', async () => {
    const fakes = await hosts([['m:latest']])
    const s = settings(fakes, { queueTimeoutMs: 5_000 })
    s.hosts[0]!.maxConcurrent = 1
    const fleet = fleetOf(s)
    await fleet.discover()
    const first = await fleet.acquire('m:latest')
    if (first.kind !== 'lease') throw new Error(first.kind)
    const waiting = fleet.acquire('m:latest')
    first.lease.release('success')
    const second = await waiting
    expect(second.kind).toBe('lease')

    const quick = fleetOf({ ...s, queueTimeoutMs: 30 })
    await quick.discover()
    const held = await quick.acquire('m:latest')
    expect(held.kind).toBe('lease')
    expect(await quick.acquire('m:latest')).toEqual({ kind: 'busy', retryAfterSeconds: 1 })
  })

  it('ejects a dead host after failuresToEject failures and brings it back after the cooldown', async () => {
    const fakes = await hosts([['m:latest'], ['m:latest']])
    const clock = manualClock()
    const fleet = fleetOf(settings(fakes, { failuresToEject: 2, cooldownMs: 30_000 }), clock)
    await fleet.discover()
    const port = fakes[0]!.port
    await fakes[0]!.close()

    await fleet.probe()
    await fleet.probe()
    expect(fleet.hosts[0]?.ejectedUntil).toBe(clock.now() + 30_000)
    for (let i = 0; i < 3; i++) expect(await leaseHost(fleet, 'm:latest')).toBe('gpu-b')

    // still out before the cooldown, even though it answers again
    const again = await startFakeOllama({ port })
    again.script.models = ['m:latest']
    again.script.loaded = []
    open.push(again)
    clock.advance(29_999)
    await fleet.probe()
    expect(await leaseHost(fleet, 'm:latest')).toBe('gpu-b')
    expect(await leaseHost(fleet, 'm:latest')).toBe('gpu-b')

    clock.advance(1)
    await fleet.probe()
    expect(fleet.hosts[0]?.ejectedUntil).toBe(0)
    const seen = new Set([await leaseHost(fleet, 'm:latest'), await leaseHost(fleet, 'm:latest')])
    expect(seen).toEqual(new Set(['gpu-a', 'gpu-b']))
  })

  it('a failed request counts towards ejection; a success between failures resets the run', async () => {
    const fakes = await hosts([['m:latest']])
    const fleet = fleetOf(settings(fakes, { failuresToEject: 2 }))
    await fleet.discover()
    const take = async () => {
      const got = await fleet.acquire('m:latest')
      if (got.kind !== 'lease') throw new Error(got.kind)
      return got.lease
    }
    ;(await take()).release('failure', '502')
    ;(await take()).release('success')
    ;(await take()).release('failure', '502')
    expect(await leaseHost(fleet, 'm:latest')).toBe('gpu-a')
    ;(await take()).release('failure', '502')
    ;(await take()).release('failure', '502')
    expect(await leaseHost(fleet, 'm:latest')).toBe('absent')
  })
})
