// docker-compose.yml, the Dockerfile and .dockerignore cannot be run here (no Docker engine), so
// their properties are checked by parsing them: only Gatehouse reaches Ollama while Ollama can still
// pull models, first start needs no writable folder from the checkout, both services have health
// checks that gate start order, and the image's own config listens on the container's interfaces
// with TLS on and writes only into its volumes.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { buildConfig } from '../../../src/config/load.js'

const root = join(import.meta.dirname, '../../..')
interface Healthcheck { test?: string[] | string, interval?: string, timeout?: string, retries?: number, start_period?: string }
interface Service {
  image?: string, build?: unknown, ports?: string[], expose?: string[], networks?: string[] | Record<string, unknown>, network_mode?: string,
  volumes?: string[], user?: string, read_only?: boolean, environment?: Record<string, string>, healthcheck?: Healthcheck,
  depends_on?: string[] | Record<string, { condition?: string }>, tmpfs?: string[]
}
interface Network { internal?: boolean, driver_opts?: Record<string, string> }
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>, networks: Record<string, Network | null>, volumes: Record<string, unknown> }
const netsOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}))
const membersOf = (net: string) => Object.entries(compose.services).filter(([, s]) => netsOf(s).includes(net)).map(([name]) => name).sort()
const ollama = compose.services.ollama as Service
const gatehouse = compose.services.gatehouse as Service
const df = readFileSync(join(root, 'Dockerfile'), 'utf8')
const runtimeStage = df.slice(df.lastIndexOf('\nFROM '))

// the image's config, with paths resolved as inside the container (/app/config)
const containerConfigFile = 'config/gatehouse.container.yaml'
const containerConfig = buildConfig(parse(readFileSync(join(root, containerConfigFile), 'utf8')), '/app/config')
const under = (dir: string, p: string) => p === dir || p.startsWith(dir + '/')

describe('docker-compose.yml: Ollama reachable only from Gatehouse, and able to pull models', () => {
  it('Ollama publishes no host port and shares no host network', () => {
    expect(ollama.ports ?? []).toEqual([])
    expect(ollama.network_mode).toBeUndefined()
  })
  it('Ollama\'s inbound network is internal and Gatehouse is its only other member', () => {
    const internal = netsOf(ollama).filter((n) => compose.networks[n]?.internal === true)
    expect(internal).toHaveLength(1)
    expect(membersOf(internal[0] as string)).toEqual(['gatehouse', 'ollama'])
  })
  it('Ollama has an egress network of its own (outbound access, no other member, no container-to-container traffic)', () => {
    const egress = netsOf(ollama).filter((n) => compose.networks[n]?.internal !== true)
    expect(egress).toHaveLength(1)
    const net = egress[0] as string
    expect(membersOf(net)).toEqual(['ollama'])
    expect(compose.networks[net]?.driver_opts?.['com.docker.network.bridge.enable_icc']).toBe('false')
  })
  it('Gatehouse publishes 8443 on a network Ollama is not on', () => {
    expect(gatehouse.ports).toEqual(['8443:8443'])
    const front = netsOf(gatehouse).filter((n) => !netsOf(ollama).includes(n))
    expect(front).toHaveLength(1)
    expect(compose.networks[front[0] as string]?.internal).not.toBe(true)
  })
})

describe('docker-compose.yml: first start on a fresh checkout', () => {
  const mounts = (gatehouse.volumes ?? []).map((v) => { const [source, target] = v.split(':'); return { source: source as string, target: target as string } })
  it('Gatehouse runs from the Dockerfile with the image\'s container config', () => {
    expect(gatehouse.build).toBe('.')
    expect(gatehouse.environment?.GATEHOUSE_CONFIG).toBe(posix.join('/app', containerConfigFile))
  })
  it('mounts nothing from the checkout: certificates, data and logs are named volumes it declares', () => {
    for (const m of mounts) {
      expect(m.source, `${m.source}:${m.target} is a bind mount`).not.toMatch(/^[./~]/)
      expect(Object.keys(compose.volumes), m.source).toContain(m.source)
    }
    expect(mounts.map((m) => m.target).sort()).toEqual(['/app/certs', '/app/data', '/app/logs'])
  })
  it('with a read-only root filesystem, everything the config writes lies in a mounted volume', () => {
    expect(gatehouse.read_only).toBe(true)
    const targets = mounts.map((m) => m.target)
    const writes = [
      posix.dirname(containerConfig.tls.cert), posix.dirname(containerConfig.tls.key), containerConfig.dataDir,
      containerConfig.store.url.replace(/^sqlite:/, ''),
      ...containerConfig.audit.sinks.flatMap((s) => (s.type === 'file' ? [s.path] : []))
    ]
    for (const w of writes) expect(targets.some((t) => under(t, w)), w).toBe(true)
    expect(gatehouse.tmpfs).toContain('/tmp')
  })
  it('the image creates each volume folder owned by its non-root user, so a new named volume is writable', () => {
    const user = [...runtimeStage.matchAll(/^USER (\S+)/gm)].at(-1)?.[1]
    const volumes = JSON.parse(/^VOLUME (\[.*\])$/m.exec(runtimeStage)?.[1] ?? '[]') as string[]
    expect(volumes.sort()).toEqual(['/app/certs', '/app/data', '/app/logs'])
    const chown = /chown (\S+):(\S+) ([^\n\\&]+)/.exec(runtimeStage)
    expect(chown?.[1]).toBe(user)
    for (const v of volumes) expect(chown?.[3]?.split(/\s+/), v).toContain(v)
  })
})

describe('health checks', () => {
  it('both services have one, and Gatehouse starts once Ollama is healthy', () => {
    for (const s of [ollama, gatehouse]) {
      expect(s.healthcheck?.test).toBeDefined()
      expect(JSON.stringify(s.healthcheck?.test)).not.toMatch(/curl|wget/)
    }
    expect(gatehouse.depends_on).toEqual({ ollama: { condition: 'service_healthy' } })
  })
  it('Gatehouse\'s compose and image health checks run the node probe against the configured port', () => {
    expect(gatehouse.healthcheck?.test).toEqual(['CMD', 'node', '/app/bin/healthcheck.js'])
    expect(runtimeStage).toMatch(/^HEALTHCHECK .*CMD \["node", "\/app\/bin\/healthcheck\.js"\]$/m)
    const probe = readFileSync(join(root, 'bin/healthcheck.js'), 'utf8')
    expect(probe).toContain(`'https://127.0.0.1:${containerConfig.listen.port}/healthz'`)
  })
})

describe('the image config (config/gatehouse.container.yaml)', () => {
  it('listens on every interface of the container with TLS on, and reaches Ollama by its service name', () => {
    expect(containerConfig.listen).toEqual({ host: '0.0.0.0', port: 8443 })
    expect(containerConfig.tls.enabled).toBe(true)
    expect(containerConfig.upstream.url).toBe('http://ollama:11434')
    expect(Object.keys(compose.services)).toContain(new URL(containerConfig.upstream.url ?? '').hostname)
    expect(containerConfig.audit.failClosed).toBe(true)
  })
  it('is the Dockerfile\'s default: copied into the image and named by GATEHOUSE_CONFIG', () => {
    expect(runtimeStage).toMatch(/^COPY config \.\/config$/m)
    expect(runtimeStage).toContain(`ENV GATEHOUSE_CONFIG=${posix.join('/app', containerConfigFile)}`)
  })
})

describe('Dockerfile', () => {
  it('is multi-stage and runs as a non-root user', () => {
    expect((df.match(/^FROM /gm) ?? []).length).toBeGreaterThanOrEqual(2)
    const users = [...df.matchAll(/^USER (\S+)/gm)].map((m) => m[1])
    expect(users.at(-1)).not.toMatch(/^(root|0)$/)
    expect(users.length).toBeGreaterThan(0)
  })
  it('runs gatehouse serve, and puts `gatehouse` on PATH for exec', () => {
    expect(df).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/gatehouse\.js"\]$/m)
    expect(df).toMatch(/^CMD \["serve"/m)
    expect(df).toMatch(/ln -s \/app\/bin\/gatehouse\.js \/usr\/local\/bin\/gatehouse/)
  })
})

describe('.dockerignore', () => {
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  it('keeps local state, secrets and build output out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'data', 'logs', 'certs', '.git', 'bench/results', 'dist', 'coverage']))
  })
  it('ignores nothing the Dockerfile copies', () => {
    const copied = [...df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/))
    for (const c of copied) expect(ignored, c).not.toContain(c)
  })
})

describe('the CLI under Kubernetes', () => {
  it('`kubectl exec … gatehouse` reads the same config file as serve (GATEHOUSE_CONFIG)', () => {
    const docs = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/20-gatehouse.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
    const container = docs.find((d) => d.kind === 'Deployment')?.spec.template.spec.containers[0]
    const args = container.args as string[]
    const env = (container.env as Array<{ name: string, value: string }>).find((e) => e.name === 'GATEHOUSE_CONFIG')
    expect(env?.value).toBe(args[args.indexOf('--config') + 1])
  })
})
