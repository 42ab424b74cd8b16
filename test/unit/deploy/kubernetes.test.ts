// deploy/kubernetes cannot be applied here (no API server), so the properties that make it
// applyable and safe are checked by parsing every manifest: API versions and kinds, selectors that
// match their pods, consistent ports, restricted pod security, a NetworkPolicy that admits only
// Gatehouse to Ollama, and the ConfigMap carrying the production example config verbatim.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { buildConfig } from '../../../src/config/load.js'
import { parse } from 'yaml'

const root = join(import.meta.dirname, '../../..')
const dir = join(root, 'deploy/kubernetes')

/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>
const docs: Array<Doc & { file: string }> = []
for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
  for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`)
    const v = d.toJS() as Doc | null
    if (v !== null) docs.push({ ...v, file })
  }
}
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind)
const one = (kind: string, name: string): Doc => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name)
  if (!d) throw new Error(`no ${kind} ${name}`)
  return d
}
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

const API: Record<string, string> = {
  Namespace: 'v1', ServiceAccount: 'v1', ConfigMap: 'v1', Service: 'v1', PersistentVolumeClaim: 'v1',
  Deployment: 'apps/v1', NetworkPolicy: 'networking.k8s.io/v1', CronJob: 'batch/v1'
}

describe('deploy/kubernetes manifests', () => {
  it('every document is a known kind with its current apiVersion, a DNS-1123 name and the gatehouse namespace', () => {
    expect(docs.length).toBeGreaterThanOrEqual(10)
    for (const d of docs) {
      expect(API[d.kind], `${d.file}: kind ${d.kind}`).toBeDefined()
      expect(d.apiVersion, `${d.file}: ${d.kind}`).toBe(API[d.kind])
      expect(d.metadata?.name, d.file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      if (d.kind !== 'Namespace') expect(d.metadata.namespace, `${d.kind} ${d.metadata.name}`).toBe('gatehouse')
    }
    const names = docs.map((d) => `${d.kind}/${d.metadata.name}`)
    expect(new Set(names).size).toBe(names.length)
  })

  it('the namespace enforces the restricted Pod Security Standard', () => {
    expect(one('Namespace', 'gatehouse').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted')
  })

  it('ships Gatehouse and Ollama as Deployment + Service each, and a ConfigMap', () => {
    for (const n of ['gatehouse', 'ollama']) { one('Deployment', n); one('Service', n) }
    one('ConfigMap', 'gatehouse-config')
  })

  describe.each(['gatehouse', 'ollama'])('Deployment %s', (name) => {
    const dep = one('Deployment', name)
    const pod = dep.spec.template.spec
    it('its selector matches its pod labels, and its Service selects those pods on a declared port', () => {
      expect(matches(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels)).toBe(true)
      const svc = one('Service', name)
      expect(matches(svc.spec.selector, dep.spec.template.metadata.labels)).toBe(true)
      const ports = pod.containers.flatMap((c: Doc) => c.ports ?? [])
      for (const p of svc.spec.ports) {
        const target = p.targetPort ?? p.port
        const found = ports.find((cp: Doc) => cp.name === target || cp.containerPort === target)
        expect(found, `Service ${name} targetPort ${target}`).toBeDefined()
      }
    })
    it('runs under a ServiceAccount without an automounted token', () => {
      expect(pod.automountServiceAccountToken).toBe(false)
      const sa = one('ServiceAccount', pod.serviceAccountName)
      expect(sa.automountServiceAccountToken).toBe(false)
    })
    it('is restricted: non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true)
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0)
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault')
      expect(pod.hostNetwork ?? false).toBe(false)
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const sc = c.securityContext
        expect(sc.runAsNonRoot, c.name).toBe(true)
        expect(sc.readOnlyRootFilesystem, c.name).toBe(true)
        expect(sc.allowPrivilegeEscalation, c.name).toBe(false)
        expect(sc.privileged ?? false, c.name).toBe(false)
        expect(sc.capabilities.drop, c.name).toEqual(['ALL'])
        expect(sc.capabilities.add ?? [], c.name).toEqual([])
        expect(sc.seccompProfile.type, c.name).toBe('RuntimeDefault')
      }
    })
    it('mounts only volumes it declares, and every claim, ConfigMap and probe port exists', () => {
      const declared = new Map<string, Doc>(pod.volumes.map((v: Doc) => [v.name, v]))
      for (const c of pod.containers) {
        for (const m of c.volumeMounts ?? []) expect(declared.has(m.name), `${c.name} mounts ${m.name}`).toBe(true)
        const portNames = (c.ports ?? []).map((p: Doc) => p.name)
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          const port = probe.httpGet?.port
          expect(typeof port === 'number' || portNames.includes(port), `${c.name} probe port ${port}`).toBe(true)
        }
      }
      for (const v of declared.values()) {
        if (v.persistentVolumeClaim) one('PersistentVolumeClaim', v.persistentVolumeClaim.claimName)
        if (v.configMap) one('ConfigMap', v.configMap.name)
        if (v.secret?.defaultMode !== undefined) expect(v.secret.defaultMode).toBeLessThanOrEqual(0o777)
      }
    })
  })

  it('Gatehouse has writable volumes for data, logs and tmp and read-only ones for config and certs (its root fs is read-only)', () => {
    const c = one('Deployment', 'gatehouse').spec.template.spec.containers[0]
    const mounts = new Map<string, Doc>(c.volumeMounts.map((m: Doc) => [m.mountPath, m]))
    for (const p of ['/app/data', '/app/logs', '/tmp']) expect(mounts.get(p)?.readOnly ?? false, p).toBe(false)
    for (const p of ['/app/config', '/app/certs']) expect(mounts.get(p)?.readOnly, p).toBe(true)
    expect(c.args).toEqual(['serve', '--config', '/app/config/gatehouse.yaml'])
    expect(c.ports.map((p: Doc) => p.containerPort)).toEqual([8443])
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' })
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' })
  })

  it('a NetworkPolicy admits only Gatehouse pods to Ollama, only on TCP 11434', () => {
    const ollamaLabels = one('Deployment', 'ollama').spec.template.metadata.labels
    const gatehouseLabels = one('Deployment', 'gatehouse').spec.template.metadata.labels
    const policies = ofKind('NetworkPolicy').filter((p) => matches(p.spec.podSelector.matchLabels, ollamaLabels))
    expect(policies.length).toBeGreaterThan(0)
    for (const p of policies) {
      expect(p.spec.policyTypes).toContain('Ingress')
      for (const rule of p.spec.ingress ?? []) {
        // no rule without `from` (that would admit everyone); every peer is a pod selector for Gatehouse
        expect(rule.from?.length, p.metadata.name).toBeGreaterThan(0)
        for (const peer of rule.from) {
          expect(peer.ipBlock, p.metadata.name).toBeUndefined()
          expect(peer.namespaceSelector, p.metadata.name).toBeUndefined()
          expect(matches(peer.podSelector.matchLabels, gatehouseLabels)).toBe(true)
          expect(matches(peer.podSelector.matchLabels, ollamaLabels)).toBe(false)
        }
        expect(rule.ports).toEqual([{ protocol: 'TCP', port: 11434 }])
      }
    }
    expect(one('Service', 'ollama').spec.type ?? 'ClusterIP').toBe('ClusterIP')
    const ollamaPod = one('Deployment', 'ollama').spec.template.spec
    expect(ollamaPod.containers.flatMap((c: Doc) => c.ports ?? []).some((p: Doc) => p.hostPort !== undefined)).toBe(false)
  })

  it('the ConfigMap holds config/gatehouse.production.yaml verbatim, and it is valid and points at the ollama Service', () => {
    const text = one('ConfigMap', 'gatehouse-config').data['gatehouse.yaml'] as string
    expect(text).toBe(readFileSync(join(root, 'config/gatehouse.production.yaml'), 'utf8'))
    const c = buildConfig(parse(text), '/app/config', '/app/config/gatehouse.yaml')
    const svc = one('Service', 'ollama')
    expect(c.upstream.url).toBe(`http://${svc.metadata.name}:${svc.spec.ports[0].port}`)
    expect(c.listen.port).toBe(8443)
    // every path the config writes to is on a mounted volume
    const mounts = one('Deployment', 'gatehouse').spec.template.spec.containers[0].volumeMounts.map((m: Doc) => m.mountPath as string)
    const onMount = (p: string) => mounts.some((m: string) => p.startsWith(m + '/'))
    expect(onMount(c.dataDir + '/x')).toBe(true)
    for (const s of c.audit.sinks) if (s.type === 'file') expect(onMount(s.path), s.path).toBe(true)
    expect(onMount(c.tls.cert) && onMount(c.tls.key)).toBe(true)
    for (const s of c.audit.sinks) if (s.type === 'syslog' && s.ca) expect(onMount(s.ca), s.ca).toBe(true)
  })
})
