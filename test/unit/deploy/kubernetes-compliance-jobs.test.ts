// The scheduled compliance jobs in deploy/kubernetes, checked by parsing: the Trivy CronJob scans
// exactly the images the Deployments run and writes its reports where the compliance check reads
// them (compliance.scanDir of the shipped config), the compliance CronJob runs the check daily
// with the webhook URL from a Secret, and both pods are as restricted as the gateway's and are not
// mistaken for Gatehouse by its Service or the Ollama NetworkPolicy.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { buildConfig } from '../../../src/config/load.js'

const dir = join(import.meta.dirname, '../../../deploy/kubernetes')
/* eslint-disable @typescript-eslint/no-explicit-any */
type Doc = Record<string, any>
const docs: Doc[] = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Doc | null))
  .filter((d): d is Doc => d !== null)
const one = (kind: string, name: string): Doc => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name)
  if (!d) throw new Error(`no ${kind} ${name}`)
  return d
}
const podOf = (cron: Doc): Doc => cron.spec.jobTemplate.spec.template.spec
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

const scan = one('CronJob', 'gatehouse-image-scan')
const compliance = one('CronJob', 'gatehouse-compliance')
const config = buildConfig(parse(one('ConfigMap', 'gatehouse-config').data['gatehouse.yaml'] as string), '/app/config', '/app/config/gatehouse.yaml')
const imageOf = (deployment: string) => one('Deployment', deployment).spec.template.spec.containers[0].image as string
const envOf = (c: Doc, name: string) => (c.env as Doc[]).find((e) => e.name === name)
const claimAt = (pod: Doc, c: Doc, path: string): string | undefined => {
  const mount = (c.volumeMounts as Doc[]).find((m) => m.mountPath === path)
  return (pod.volumes as Doc[]).find((v) => v.name === mount?.name)?.persistentVolumeClaim?.claimName
}

describe('the image-scan CronJob', () => {
  const pod = podOf(scan)
  const c = pod.containers[0]
  it('scans the images the Gatehouse and Ollama Deployments run, with Trivy, as JSON', () => {
    expect(envOf(c, 'GATEHOUSE_IMAGE')?.value).toBe(imageOf('gatehouse'))
    expect(envOf(c, 'OLLAMA_IMAGE')?.value).toBe(imageOf('ollama'))
    expect(c.image).toMatch(/^aquasec\/trivy:\d+\.\d+\.\d+$/)
    const script = c.args.join('\n') as string
    expect(script).toMatch(/trivy image .*--format json --output "\$out\.tmp" "\$image"/)
    expect(script).toContain('mv "$out.tmp" "$out"')
    expect(script).toContain('"gatehouse=$GATEHOUSE_IMAGE" "ollama=$OLLAMA_IMAGE"')
  })
  it('writes its reports onto the scans volume that the compliance job reads as compliance.scanDir', () => {
    const out = /out="([^"$]+)\//.exec(c.args.join('\n') as string)?.[1]
    expect(out).toBe('/scans')
    const claim = claimAt(pod, c, '/scans')
    expect(claim).toBe('gatehouse-scans')
    one('PersistentVolumeClaim', claim as string)
    const cc = podOf(compliance).containers[0]
    expect(claimAt(podOf(compliance), cc, config.compliance.scanDir)).toBe(claim)
  })
  it('runs daily, before the compliance check', () => {
    const [sm, sh] = (scan.spec.schedule as string).split(' ').map(Number)
    const [cm, ch] = (compliance.spec.schedule as string).split(' ').map(Number)
    for (const s of [scan.spec.schedule, compliance.spec.schedule]) expect(s).toMatch(/^\d+ \d+ \* \* \*$/)
    expect((sh as number) * 60 + (sm as number)).toBeLessThan((ch as number) * 60 + (cm as number))
  })
})

describe('the compliance CronJob', () => {
  const pod = podOf(compliance)
  const c = pod.containers[0]
  it('runs gatehouse compliance check on the shipped config, in the Gatehouse image, without retries', () => {
    expect(c.image).toBe(imageOf('gatehouse'))
    expect(c.args).toEqual(['compliance', 'check', '--config', '/app/config/gatehouse.yaml'])
    expect(compliance.spec.jobTemplate.spec.backoffLimit).toBe(0)
    expect(compliance.spec.concurrencyPolicy).toBe('Forbid')
  })
  it('takes the webhook URL from a Secret, in the variable compliance.notifyUrlEnv names, never as a literal', () => {
    const e = envOf(c, config.compliance.notifyUrlEnv)
    expect(e?.value).toBeUndefined()
    expect(e?.valueFrom?.secretKeyRef).toEqual({ name: 'gatehouse-compliance-webhook', key: 'url' })
    expect(JSON.stringify(compliance)).not.toMatch(/hooks\.slack\.com|https?:\/\/[^"]*\/services\//)
  })
  it('sees every file the configuration names on the same volumes as the gateway', () => {
    const gw = one('Deployment', 'gatehouse').spec.template.spec
    const gwc = gw.containers[0]
    for (const path of ['/app/data', '/app/logs']) expect(claimAt(pod, c, path), path).toBe(claimAt(gw, gwc, path))
    const mounts = (c.volumeMounts as Doc[]).map((m) => m.mountPath as string)
    const onMount = (p: string) => mounts.some((m) => p.startsWith(m + '/'))
    for (const p of [config.dataDir + '/x', config.tls.cert, config.compliance.scanDir + '/x']) expect(onMount(p), p).toBe(true)
    for (const s of config.audit.sinks) if (s.type === 'file') expect(onMount(s.path), s.path).toBe(true)
    for (const s of config.audit.sinks) if (s.type === 'syslog' && s.ca) expect(onMount(s.ca), s.ca).toBe(true)
    // the alert rules come with the image (Dockerfile), not from a volume
    expect(posix.relative('/app', config.compliance.alertRulesFile)).toBe('deploy/monitoring/alerts.yaml')
    expect(readFileSync(join(dir, '../../Dockerfile'), 'utf8')).toContain('COPY deploy/monitoring/alerts.yaml ./deploy/monitoring/alerts.yaml')
  })
})

describe.each([['gatehouse-image-scan', scan], ['gatehouse-compliance', compliance]])('the %s pod', (_name, cron) => {
  const pod = podOf(cron)
  const labels = cron.spec.jobTemplate.spec.template.metadata.labels
  it('is restricted like the gateway: non-root, read-only root filesystem, no escalation, no capabilities, no token', () => {
    expect(pod.restartPolicy).toBe('Never')
    expect(pod.automountServiceAccountToken).toBe(false)
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
      for (const m of c.volumeMounts) expect((pod.volumes as Doc[]).some((v) => v.name === m.name), m.name).toBe(true)
    }
  })
  it('is not selected by the Gatehouse Service nor admitted to Ollama, and runs beside the gateway (ReadWriteOnce volumes)', () => {
    expect(matches(one('Service', 'gatehouse').spec.selector, labels)).toBe(false)
    for (const p of docs.filter((d) => d.kind === 'NetworkPolicy')) {
      for (const rule of p.spec.ingress ?? []) for (const peer of rule.from ?? []) expect(matches(peer.podSelector?.matchLabels ?? {}, labels)).toBe(false)
    }
    const term = pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]
    expect(term.topologyKey).toBe('kubernetes.io/hostname')
    expect(matches(term.labelSelector.matchLabels, one('Deployment', 'gatehouse').spec.template.metadata.labels)).toBe(true)
  })
})
