// docker-compose.yml cannot be started here (no Docker engine), so its security properties are
// checked by parsing it: Ollama is reachable only on an internal network, Gatehouse publishes 8443.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { loadConfig } from '../../../src/config/load.js'

const root = join(import.meta.dirname, '../../..')
interface Service { image?: string, build?: unknown, ports?: string[], expose?: string[], networks?: string[] | Record<string, unknown>, network_mode?: string, volumes?: string[], user?: string, read_only?: boolean }
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>, networks: Record<string, { internal?: boolean } | null> }
const netsOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}))

describe('docker-compose.yml', () => {
  const ollama = compose.services.ollama as Service
  const gatehouse = compose.services.gatehouse as Service
  it('Ollama publishes no host port and shares no host network', () => {
    expect(ollama.ports ?? []).toEqual([])
    expect(ollama.network_mode).toBeUndefined()
  })
  it('Ollama is only on internal networks', () => {
    const nets = netsOf(ollama)
    expect(nets.length).toBeGreaterThan(0)
    for (const n of nets) expect(compose.networks[n]?.internal, n).toBe(true)
  })
  it('Gatehouse shares Ollama\'s internal network and publishes 8443', () => {
    expect(netsOf(gatehouse)).toEqual(expect.arrayContaining(netsOf(ollama)))
    expect(gatehouse.ports).toEqual(['8443:8443'])
  })
  it('Gatehouse mounts its config, certs and data as volumes and runs from the Dockerfile', () => {
    const targets = (gatehouse.volumes ?? []).map((v) => v.split(':')[1])
    expect(targets).toEqual(expect.arrayContaining(['/app/config/gatehouse.yaml', '/app/certs', '/app/data', '/app/logs']))
    expect(gatehouse.build).toBe('.')
  })
  it('the mounted Gatehouse config is valid and points at the ollama service', () => {
    const c = loadConfig(join(root, 'deploy/compose/gatehouse.yaml'))
    expect(c.upstream.url).toBe('http://ollama:11434')
    expect(c.tls.enabled).toBe(true)
  })
})

describe('Dockerfile', () => {
  const df = readFileSync(join(root, 'Dockerfile'), 'utf8')
  it('is multi-stage and runs as a non-root user', () => {
    expect((df.match(/^FROM /gm) ?? []).length).toBeGreaterThanOrEqual(2)
    const users = [...df.matchAll(/^USER (\S+)/gm)].map((m) => m[1])
    expect(users.at(-1)).not.toMatch(/^(root|0)$/)
    expect(users.length).toBeGreaterThan(0)
  })
  it('runs gatehouse serve', () => {
    expect(df).toMatch(/ENTRYPOINT \["node", "bin\/gatehouse.js"\]/)
    expect(df).toMatch(/CMD \["serve"/)
  })
})
