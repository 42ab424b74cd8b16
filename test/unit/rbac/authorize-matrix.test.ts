// Every proxied route × every role × an allowed and a forbidden model: the decision of each cell is
// written out by hand from the documented roles and routes (not computed by the code under test), so any wrong cell fails.
import { describe, expect, it } from 'vitest'
import { authorize } from '../../../src/rbac/authorize.js'
import { PROXIED_ROUTES } from '../../../src/ollama/routes.js'
import { json, policy } from './fixtures.js'

/** The proxied routes and their permissions, by hand. */
const PERMISSION_OF: Record<string, string> = {
  'POST /api/generate': 'inference',
  'POST /api/chat': 'inference',
  'POST /api/embed': 'inference',
  'POST /api/embeddings': 'inference',
  'POST /v1/chat/completions': 'inference',
  'POST /v1/completions': 'inference',
  'POST /v1/embeddings': 'inference',
  'GET /api/tags': 'models:read',
  'HEAD /api/tags': 'models:read',
  'POST /api/show': 'models:read',
  'GET /v1/models': 'models:read',
  'GET /v1/models/:model': 'models:read',
  'POST /api/pull': 'models:manage',
  'POST /api/push': 'models:manage',
  'POST /api/create': 'models:manage',
  'POST /api/copy': 'models:manage',
  'DELETE /api/delete': 'models:manage',
  'HEAD /api/blobs/:digest': 'models:upload',
  'POST /api/blobs/:digest': 'models:upload',
  'GET /api/ps': 'status:read',
  'GET /api/version': 'status:read',
  'HEAD /api/version': 'status:read',
  'GET /': 'status:read',
  'HEAD /': 'status:read'
}

/** The default roles plus the analyst, by hand. */
const GRANTS: Record<string, string[]> = {
  admin: ['inference', 'models:read', 'models:manage', 'models:upload', 'status:read', 'metrics:read'],
  'model-loader': ['models:read', 'models:manage', 'models:upload'],
  user: ['inference', 'models:read'],
  monitor: ['status:read', 'metrics:read'],
  analyst: ['inference', 'models:read'],
  curator: ['models:read', 'models:manage']
}

/** Which model names each role may use, for the names used below. */
const MAY_USE: Record<string, { allowed: boolean, forbidden: boolean }> = {
  admin: { allowed: true, forbidden: true },
  'model-loader': { allowed: true, forbidden: true },
  user: { allowed: true, forbidden: true },
  monitor: { allowed: false, forbidden: false },
  analyst: { allowed: true, forbidden: false },
  curator: { allowed: true, forbidden: false }
}

// the analyst's and curator's list is ['llama3.2', 'qwen2.5:*']
const NAMES = {
  allowed: { one: 'llama3.2', other: 'qwen2.5:copy', canonical: ['llama3.2:latest', 'qwen2.5:copy'] },
  forbidden: { one: 'secret-model', other: 'secret-copy', canonical: ['secret-model:latest', 'secret-copy:latest'] }
}

type Case = 'allowed' | 'forbidden'

/** The request each route gets, and the canonical models it names (by hand). */
function request (id: string, c: Case): { body: Buffer | null, params: Record<string, string>, models: string[], fields: Record<string, string> } {
  const n = NAMES[c]
  const model = (extra: Record<string, unknown> = {}) => {
    const fields = { model: n.one }
    return { body: json({ ...fields, ...extra }), params: {}, models: [n.canonical[0] as string], fields }
  }
  switch (id) {
    case 'POST /api/generate': return model({ prompt: 'hi', stream: false })
    case 'POST /api/chat': return model({ messages: [{ role: 'user', content: 'hi' }] })
    case 'POST /api/embed': return model({ input: 'hi' })
    case 'POST /api/embeddings': return model({ prompt: 'hi' })
    case 'POST /v1/chat/completions': return model({ messages: [{ role: 'user', content: 'hi' }] })
    case 'POST /v1/completions': return model({ prompt: 'hi' })
    case 'POST /v1/embeddings': return model({ input: 'hi' })
    case 'POST /api/show': return model()
    case 'POST /api/pull': return model({ stream: true })
    case 'POST /api/push': return model({ stream: true })
    case 'DELETE /api/delete': return model()
    case 'POST /api/create': {
      const fields = { model: n.other, from: n.one }
      return { body: json(fields), params: {}, models: [n.canonical[1] as string, n.canonical[0] as string], fields }
    }
    case 'POST /api/copy': {
      const fields = { source: n.one, destination: n.other }
      return { body: json(fields), params: {}, models: [n.canonical[0] as string, n.canonical[1] as string], fields }
    }
    case 'GET /v1/models/:model': return { body: null, params: { model: n.one }, models: [n.canonical[0] as string], fields: {} }
    case 'POST /api/blobs/:digest':
    case 'HEAD /api/blobs/:digest': return { body: null, params: { digest: 'sha256:' + 'a'.repeat(64) }, models: [], fields: {} }
    default: return { body: null, params: {}, models: [], fields: {} }
  }
}

describe('the route table is the documented one', () => {
  it('every proxied route has its documented permission, and no route is missing', () => {
    expect(Object.fromEntries(PROXIED_ROUTES.map((r) => [r.id, r.permission]))).toEqual(PERMISSION_OF)
  })
})

describe('authorization matrix: role × route × allowed/forbidden model', () => {
  const cells = PROXIED_ROUTES.flatMap((r) => Object.keys(GRANTS).flatMap((role) =>
    (['allowed', 'forbidden'] as const).map((c) => ({ id: r.id, route: r, role, c }))))

  it('covers every route with every role and both models', () => {
    expect(cells).toHaveLength(PROXIED_ROUTES.length * 6 * 2)
  })

  it.each(cells)('$role $id with the $c model', ({ route, role, c, id }) => {
    const req = request(id, c)
    const result = authorize(policy, route, [role], req.body, req.params)
    const permitted = (GRANTS[role] as string[]).includes(PERMISSION_OF[id] as string)
    const modelOk = req.models.length === 0 || (MAY_USE[role] as Record<Case, boolean>)[c]
    if (!permitted) {
      expect(result).toMatchObject({ ok: false, status: 403, code: 'GH_ERR_FORBIDDEN', reason: `permission:${PERMISSION_OF[id]}` })
    } else if (!modelOk) {
      expect(result).toMatchObject({ ok: false, status: 403, code: 'GH_ERR_MODEL_FORBIDDEN', reason: 'model-forbidden' })
      expect(!result.ok && result.models[0]).toBe(req.models[0])
    } else {
      expect(result).toMatchObject({ ok: true, models: req.models })
      if (!result.ok) return
      if (route.body === 'json') {
        // the forwarded body carries the checked names under their canonical keys, and nothing else changed
        const forwarded = JSON.parse((result.forwardBody as Buffer).toString('utf8')) as Record<string, unknown>
        expect(forwarded).toEqual(JSON.parse((req.body as Buffer).toString('utf8')))
        for (const [k, v] of Object.entries(req.fields)) expect(forwarded[k]).toBe(v)
      } else if (route.body === 'binary') {
        // a blob upload is forwarded as received
        expect(result.forwardBody).toEqual(req.body ?? Buffer.alloc(0))
      } else {
        expect(result.forwardBody).toBeNull()
      }
    }
  })
})
