import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  canonicalSet, isHealthy, newHostState, readmit, recordFailure, recordSuccess, type HostState
} from '../../../src/fleet/host-state.js'
import { rotatingTieBreaker, selectAnyHost, selectHost } from '../../../src/fleet/select.js'

const NOW = Date.UTC(2026, 11, 7, 12)
const health = { failuresToEject: 3, cooldownMs: 30_000 }

function host (name: string, models: string[], o: { loaded?: string[], max?: number, inFlight?: number } = {}): HostState {
  const h = newHostState(name, `http://${name}.test:11434`, o.max ?? null)
  h.models = canonicalSet(models)
  h.loaded = canonicalSet(o.loaded ?? [])
  h.inFlight = o.inFlight ?? 0
  return h
}

const picked = (s: ReturnType<typeof selectHost>): string => (s.kind === 'host' ? s.host.name : s.kind)

describe('selecting a host for a model', () => {
  it('sends a request only to a host that has the model, compared canonically', () => {
    const hosts = [host('a', ['mistral:7b']), host('b', ['llama3.2:latest'])]
    expect(picked(selectHost(hosts, 'llama3.2:latest', NOW, rotatingTieBreaker()))).toBe('b')
    // `llama3.2` in a host's list is the same model as `llama3.2:latest`
    const short = [host('a', ['llama3.2'])]
    expect(picked(selectHost(short, 'llama3.2:latest', NOW, rotatingTieBreaker()))).toBe('a')
  })

  it('answers absent when no healthy host has the model', () => {
    const hosts = [host('a', ['mistral:7b'])]
    expect(selectHost(hosts, 'llama3.2:latest', NOW, rotatingTieBreaker()).kind).toBe('absent')
  })

  it('never picks a host whose model list has not been read yet', () => {
    const unread = newHostState('a', 'http://a.test:11434')
    expect(isHealthy(unread, NOW)).toBe(false)
    expect(selectHost([unread], 'llama3.2:latest', NOW, rotatingTieBreaker()).kind).toBe('absent')
  })

  it('prefers a host where the model is already loaded, even when it is busier', () => {
    const hosts = [host('a', ['llama3.2'], { inFlight: 0 }), host('b', ['llama3.2'], { loaded: ['llama3.2'], inFlight: 2, max: 4 })]
    expect(picked(selectHost(hosts, 'llama3.2:latest', NOW, rotatingTieBreaker()))).toBe('b')
  })

  it('falls back from a loaded host that is full to one that is not', () => {
    const hosts = [host('a', ['llama3.2']), host('b', ['llama3.2'], { loaded: ['llama3.2'], inFlight: 2, max: 2 })]
    expect(picked(selectHost(hosts, 'llama3.2:latest', NOW, rotatingTieBreaker()))).toBe('a')
  })

  it('prefers the least busy host relative to its maxConcurrent', () => {
    // a: 3 of 4 (0.75), b: 2 of 8 (0.25)
    const hosts = [host('a', ['m'], { max: 4, inFlight: 3 }), host('b', ['m'], { max: 8, inFlight: 2 })]
    expect(picked(selectHost(hosts, 'm:latest', NOW, rotatingTieBreaker()))).toBe('b')
  })

  it('answers busy when every candidate is at maxConcurrent', () => {
    const hosts = [host('a', ['m'], { max: 1, inFlight: 1 }), host('b', ['m'], { max: 2, inFlight: 2 }), host('c', ['x'])]
    const s = selectHost(hosts, 'm:latest', NOW, rotatingTieBreaker())
    expect(s.kind).toBe('busy')
    expect(s.kind === 'busy' ? s.candidates.map((h) => h.name) : []).toEqual(['a', 'b'])
  })

  it('takes turns between equal hosts instead of preferring the first', () => {
    const hosts = [host('a', ['m']), host('b', ['m']), host('c', ['m'])]
    const ties = rotatingTieBreaker()
    const seen = Array.from({ length: 6 }, () => picked(selectHost(hosts, 'm:latest', NOW, ties)))
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c'])
  })

  it('spreads N concurrent requests over 3 equal hosts within ±1 of N/3', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 2 }), (n, start) => {
      const hosts = [host('a', ['m']), host('b', ['m']), host('c', ['m'])]
      const ties = rotatingTieBreaker()
      for (let i = 0; i < start; i++) ties.next(3)
      // requests arrive while the earlier ones are still in flight
      for (let i = 0; i < n; i++) {
        const s = selectHost(hosts, 'm:latest', NOW, ties)
        if (s.kind !== 'host') throw new Error(`no host for request ${i}`)
        s.host.inFlight++
      }
      for (const h of hosts) expect(Math.abs(h.inFlight - n / 3)).toBeLessThanOrEqual(1)
    }))
  })

  it('leaves out hosts already tried (failover goes elsewhere)', () => {
    const hosts = [host('a', ['m']), host('b', ['m'])]
    const ties = rotatingTieBreaker()
    for (let i = 0; i < 4; i++) expect(picked(selectHost(hosts, 'm:latest', NOW, ties, new Set(['a'])))).toBe('b')
    expect(selectHost(hosts, 'm:latest', NOW, ties, new Set(['a', 'b'])).kind).toBe('absent')
  })

  it('picks any healthy host in turn for requests that name no model', () => {
    const hosts = [host('a', []), host('b', [])]
    const ties = rotatingTieBreaker()
    expect([selectAnyHost(hosts, NOW, ties)?.name, selectAnyHost(hosts, NOW, ties)?.name]).toEqual(['a', 'b'])
    expect(selectAnyHost([newHostState('x', 'http://x.test')], NOW, ties)).toBeNull()
  })
})

describe('ejecting and readmitting a host', () => {
  it('takes a host out after failuresToEject consecutive failures, for the cooldown', () => {
    const h = host('a', ['m'])
    expect(recordFailure(h, NOW, 'ECONNREFUSED', health)).toBe(false)
    expect(recordFailure(h, NOW, 'ECONNREFUSED', health)).toBe(false)
    expect(recordFailure(h, NOW, 'ECONNREFUSED', health)).toBe(true)
    expect(isHealthy(h, NOW)).toBe(false)
    expect(isHealthy(h, NOW + health.cooldownMs - 1)).toBe(false)
    expect(selectHost([h], 'm:latest', NOW + 1, rotatingTieBreaker()).kind).toBe('absent')
    expect(h.lastError).toBe('ECONNREFUSED')
  })

  it('a success between failures restarts the count', () => {
    const h = host('a', ['m'])
    recordFailure(h, NOW, 'reset', health)
    recordFailure(h, NOW, 'reset', health)
    recordSuccess(h, NOW)
    expect(recordFailure(h, NOW, 'reset', health)).toBe(false)
    expect(isHealthy(h, NOW)).toBe(true)
  })

  it('further failures of an ejected host do not extend or repeat the ejection', () => {
    const h = host('a', ['m'])
    for (let i = 0; i < 3; i++) recordFailure(h, NOW, 'x', health)
    expect(recordFailure(h, NOW + 1000, 'x', health)).toBe(false)
    expect(h.ejectedUntil).toBe(NOW + health.cooldownMs)
  })

  it('a probe after the cooldown brings the host back with a clean record', () => {
    const h = host('a', ['m'])
    for (let i = 0; i < 3; i++) recordFailure(h, NOW, 'x', health)
    readmit(h, NOW + health.cooldownMs)
    expect(isHealthy(h, NOW + health.cooldownMs)).toBe(true)
    expect(h.consecutiveFailures).toBe(0)
    expect(h.lastError).toBeNull()
    expect(h.lastSeen).toBe(NOW + health.cooldownMs)
  })
})
