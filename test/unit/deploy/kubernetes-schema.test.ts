// "Applyable as they are": with no API server here, every manifest is validated against the
// Kubernetes OpenAPI schemas (kubernetes-models), which is what `kubectl apply` checks first.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { CronJob } from 'kubernetes-models/batch/v1'

const dir = join(import.meta.dirname, '../../../deploy/kubernetes')
type Model = new (data: never) => { validate: () => void }
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace as unknown as Model,
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'v1/ServiceAccount': ServiceAccount as unknown as Model,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as Model,
  'batch/v1/CronJob': CronJob as unknown as Model
}

const docs: Array<{ file: string, doc: Record<string, unknown> }> = []
for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
  for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
    const v = d.toJS() as Record<string, unknown> | null
    if (v !== null) docs.push({ file, doc: v })
  }
}

describe('kubernetes manifests against the Kubernetes schemas', () => {
  it('there are manifests to check', () => { expect(docs.length).toBeGreaterThanOrEqual(8) })
  for (const { file, doc } of docs) {
    const kind = `${String(doc.apiVersion)}/${String(doc.kind)}`
    const name = String((doc.metadata as { name?: string } | undefined)?.name)
    it(`${file}: ${kind} ${name} is valid`, () => {
      const Model = MODELS[kind]
      expect(Model, `no schema registered for ${kind}`).toBeDefined()
      const { apiVersion: _a, kind: _k, ...rest } = doc
      expect(() => new (Model as Model)(rest as never).validate()).not.toThrow()
    })
  }
  it('a broken manifest fails validation (the check can fail)', () => {
    const bad = new Deployment({ metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 'http' as unknown as number }] }] } } } })
    expect(() => bad.validate()).toThrow()
  })
})
