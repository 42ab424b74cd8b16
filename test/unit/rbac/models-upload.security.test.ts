// Security: creating a model from uploaded blobs (`files`, `adapters` of /api/create) and the blob
// routes themselves need `models:upload`. A role that may only manage named models cannot turn an
// arbitrary blob into one of them.
import { describe, expect, it } from 'vitest'
import { authorize } from '../../../src/rbac/authorize.js'
import { createPolicy } from '../../../src/rbac/policy.js'
import { DEFAULT_ROLES, type RoleConfig } from '../../../src/config/schema.js'
import { json, raw, route } from './fixtures.js'

const CREATE = route('POST /api/create')
const BLOB_POST = route('POST /api/blobs/:digest')
const BLOB_HEAD = route('HEAD /api/blobs/:digest')
const DIGEST = 'sha256:' + 'a'.repeat(64)

const policy = createPolicy({
  ...(DEFAULT_ROLES as Record<string, RoleConfig>),
  // may manage llama3.2 only, no uploads: the role the attack used
  curator: { permissions: ['models:read', 'models:manage'], models: ['llama3.2'] },
  uploader: { permissions: ['models:manage', 'models:upload'], models: ['llama3.2'] },
  'upload-only': { permissions: ['models:upload'], models: ['*'] }
})
const denied = { ok: false, status: 403, code: 'GH_ERR_FORBIDDEN', reason: 'permission:models:upload' }

describe('create from blobs needs models:upload', () => {
  const attacks: Record<string, Buffer> = {
    files: json({ model: 'llama3.2', files: { 'model.gguf': DIGEST } }),
    adapters: json({ model: 'llama3.2', from: 'llama3.2', adapters: { 'lora.gguf': DIGEST } }),
    'FILES (Go matches keys case-insensitively)': raw(`{"model":"llama3.2","FILES":{"model.gguf":"${DIGEST}"}}`),
    'an empty files object': json({ model: 'llama3.2', files: {} }),
    'files after a null duplicate': raw(`{"model":"llama3.2","files":null,"Files":{"m.gguf":"${DIGEST}"}}`)
  }
  for (const [name, body] of Object.entries(attacks)) {
    it(`a role with models:manage only is refused: ${name}`, () => {
      expect(authorize(policy, CREATE, ['curator'], body, {})).toMatchObject(denied)
    })
  }

  it('an ambiguous spelling of files is refused as a bad request', () => {
    expect(authorize(policy, CREATE, ['curator'], raw(`{"model":"llama3.2","\uFB01les":{"m.gguf":"${DIGEST}"}}`), {}))
      .toMatchObject({ ok: false, status: 400, code: 'GH_ERR_BAD_REQUEST' })
  })

  it('create from an existing model, or with files: null, needs models:manage only', () => {
    expect(authorize(policy, CREATE, ['curator'], json({ model: 'llama3.2', from: 'llama3.2', system: 'be brief' }), {})).toMatchObject({ ok: true })
    expect(authorize(policy, CREATE, ['curator'], json({ model: 'llama3.2', files: null }), {})).toMatchObject({ ok: true })
  })

  it('a role with models:manage and models:upload for the model may create from files; other models stay refused', () => {
    expect(authorize(policy, CREATE, ['uploader'], json({ model: 'llama3.2', files: { 'm.gguf': DIGEST } }), {})).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(authorize(policy, CREATE, ['uploader'], json({ model: 'secret', files: { 'm.gguf': DIGEST } }), {})).toMatchObject({ ok: false, code: 'GH_ERR_MODEL_FORBIDDEN' })
  })

  it('models:upload alone does not grant create (models:manage is still needed)', () => {
    expect(authorize(policy, CREATE, ['upload-only'], json({ model: 'llama3.2', files: { 'm.gguf': DIGEST } }), {}))
      .toMatchObject({ ok: false, status: 403, reason: 'permission:models:manage' })
  })

  it('the default admin and model-loader roles have it', () => {
    for (const role of ['admin', 'model-loader']) {
      expect(authorize(policy, CREATE, [role], json({ model: 'x', files: { 'm.gguf': DIGEST } }), {})).toMatchObject({ ok: true })
    }
  })
})

describe('the blob routes need models:upload', () => {
  it('a role with models:manage only is refused on HEAD and POST /api/blobs/:digest', () => {
    expect(authorize(policy, BLOB_HEAD, ['curator'], null, { digest: DIGEST })).toMatchObject(denied)
    expect(authorize(policy, BLOB_POST, ['curator'], raw('GGUF'), { digest: DIGEST })).toMatchObject(denied)
  })
  it('admin, model-loader and an uploader may', () => {
    for (const role of ['admin', 'model-loader', 'uploader', 'upload-only']) {
      expect(authorize(policy, BLOB_POST, [role], raw('GGUF'), { digest: DIGEST }), role).toMatchObject({ ok: true })
    }
  })
})
