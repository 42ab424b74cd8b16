// Security regressions: each test is one way a client could try to make Ollama use a model its role
// may not use, while the gateway checks another. The restricted `analyst` may use llama3.2:latest and
// qwen2.5:* only; `curator` is the same for models:manage routes.
import { describe, expect, it } from 'vitest'
import { authorize, authzError, type AuthzResult } from '../../../src/rbac/authorize.js'
import { createPolicy } from '../../../src/rbac/policy.js'
import { json, policy, raw, route } from './fixtures.js'

const GENERATE = route('POST /api/generate')
const SHOW = route('POST /api/show')
const COPY = route('POST /api/copy')
const CREATE = route('POST /api/create')
const MODEL = route('GET /v1/models/:model')

const analyst = (r: typeof GENERATE, body: Buffer | null, params: Record<string, string> = {}): AuthzResult =>
  authorize(policy, r, ['analyst'], body, params)
const curator = (r: typeof GENERATE, body: Buffer | null): AuthzResult => authorize(policy, r, ['curator'], body, {})

/** A model denial: a reason token the audit keeps, and the refused model first in `models` (gen_ai.request.model). */
const forbidden = (model: string) => ({ ok: false, status: 403, code: 'GH_ERR_MODEL_FORBIDDEN', reason: 'model-forbidden', models: expect.toSatisfy((ms: string[]) => ms[0] === model) })

/** The keys of the forwarded body and the value upstream will read for each, via JSON.parse (last wins). */
function forwarded (result: AuthzResult): { keys: string[], body: Record<string, unknown> } {
  if (!result.ok || result.forwardBody === null) throw new Error(`expected an allowed JSON request, got ${JSON.stringify(result)}`)
  const text = result.forwardBody.toString('utf8')
  return { keys: topLevelKeys(text), body: JSON.parse(text) as Record<string, unknown> }
}

/** Top-level keys in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys (text: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(text.slice(i)) as RegExpExecArray
      if (depth === 1 && /^\s*:/.test(text.slice(i + m[0].length))) keys.push(JSON.parse(m[0]) as string)
      i += m[0].length - 1
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

/** Any key a case-insensitive reader (Go, or anything looser) could take for `field`. */
const lookalikes = (keys: string[], field: string) =>
  keys.filter((k) => k.normalize('NFKC').replace(/\u212a/g, 'k').replace(/\u017f/g, 's').toLowerCase() === field)

describe('case-variant keys: Go matches object keys to fields case-insensitively', () => {
  for (const key of ['MODEL', 'Model', 'mOdEl']) {
    it(`a later "${key}" naming a forbidden model is the one decided on`, () => {
      expect(analyst(GENERATE, raw(`{"model":"llama3.2","${key}":"secret-model","prompt":"x"}`))).toMatchObject(forbidden('secret-model:latest'))
    })
  }

  it('an earlier "MODEL" naming a forbidden model is overridden, and never reaches upstream', () => {
    const result = analyst(GENERATE, raw('{"MODEL":"secret-model","Model":"secret-model","model":"llama3.2","prompt":"x"}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    const { keys, body } = forwarded(result)
    expect(lookalikes(keys, 'model')).toEqual(['model'])
    expect(body).toEqual({ model: 'llama3.2', prompt: 'x' })
  })

  it('a JSON-escaped key ("mod\\u0065l") is the model field too', () => {
    expect(analyst(GENERATE, raw('{"model":"llama3.2","mod\\u0065l":"secret-model"}'))).toMatchObject(forbidden('secret-model:latest'))
  })
})

describe('Unicode simple folding: ſ (U+017F) folds with s, K (U+212A) with k', () => {
  it('"ſource" in /api/copy is the source field for Go, so a forbidden model there is refused', () => {
    expect(curator(COPY, raw('{"source":"llama3.2","\u017fource":"secret-model","destination":"qwen2.5:copy"}')))
      .toMatchObject(forbidden('secret-model:latest'))
  })

  it('"deſtination" (escaped as \\u017f) in /api/copy is the destination field', () => {
    expect(curator(COPY, raw('{"source":"llama3.2","destination":"qwen2.5:copy","de\\u017ftination":"secret-model"}')))
      .toMatchObject(forbidden('secret-model:latest'))
  })

  it('an earlier "ſource" that Go overrides is dropped from the forwarded body', () => {
    const result = curator(COPY, raw('{"\u017fOURCE":"secret-model","source":"llama3.2","destination":"qwen2.5:copy"}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest', 'qwen2.5:copy'] })
    const { keys, body } = forwarded(result)
    expect(lookalikes(keys, 'source')).toEqual(['source'])
    expect(body).toEqual({ source: 'llama3.2', destination: 'qwen2.5:copy' })
  })

  it('a key that only looks like a field (dotless ı, full-width, zero-width, BOM) is refused, not guessed', () => {
    for (const key of ['dest\u0131nation', '\uff4dodel', 'mo\u200bdel', '\ufeffmodel', 'mode\u0301l']) {
      const r = key.startsWith('dest') ? COPY : SHOW
      const body = r === COPY ? { source: 'llama3.2', destination: 'qwen2.5:copy', [key]: 'secret-model' } : { model: 'llama3.2', [key]: 'secret-model' }
      expect(authorize(policy, r, ['curator'], json(body), {}), key).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_BAD_REQUEST' })
    }
  })
})

describe('duplicate keys: Go keeps the last one', () => {
  it('allowed first, forbidden last → decided on the forbidden one', () => {
    expect(analyst(GENERATE, raw('{"model":"llama3.2","prompt":"x","model":"secret-model"}'))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('forbidden first, allowed last → allowed, and only the allowed one is forwarded', () => {
    const result = analyst(GENERATE, raw('{"model":"secret-model","prompt":"x","model":"llama3.2"}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(forwarded(result).keys.filter((k) => k === 'model')).toHaveLength(1)
    expect(forwarded(result).body.model).toBe('llama3.2')
  })

  it('a non-string duplicate is refused even when a later string would win', () => {
    expect(analyst(GENERATE, raw('{"model":["secret-model"],"model":"llama3.2"}'))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
  })
})

describe('`name` is the legacy alias of `model`: Ollama uses cmp.Or(model, name)', () => {
  it('an empty model and a forbidden name → decided on the name', () => {
    expect(analyst(SHOW, json({ model: '', name: 'secret-model' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('no model and a forbidden "NAME" → decided on the name', () => {
    expect(analyst(SHOW, raw('{"NAME":"secret-model"}'))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('an allowed model and a forbidden name → decided on the model, and the name never reaches upstream', () => {
    const result = analyst(SHOW, raw('{"model":"llama3.2","name":"secret-model","Name":"secret-model","verbose":true}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    const { keys, body } = forwarded(result)
    expect(lookalikes(keys, 'name')).toEqual([])
    expect(body).toEqual({ model: 'llama3.2', verbose: true })
  })

  it('an empty model and an allowed name → the name is forwarded as the model', () => {
    const result = analyst(SHOW, json({ model: '', name: 'qwen2.5:7b' }))
    expect(result).toMatchObject({ ok: true, models: ['qwen2.5:7b'] })
    expect(forwarded(result).body).toEqual({ model: 'qwen2.5:7b' })
  })

  it('both empty → 400, the model is required', () => {
    expect(analyst(SHOW, json({ model: '', name: '' }))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL', reason: 'invalid-model:missing:model' })
  })
})

describe('copy and create name more than one model', () => {
  it('a forbidden copy destination is refused (no overwriting models outside the role)', () => {
    expect(curator(COPY, json({ source: 'llama3.2', destination: 'secret-model' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('a forbidden copy source is refused (no cloning a model into an allowed name)', () => {
    expect(curator(COPY, json({ source: 'secret-model', destination: 'qwen2.5:mine' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('a missing copy destination is 400', () => {
    expect(curator(COPY, json({ source: 'llama3.2' }))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL', reason: 'invalid-model:missing:destination' })
  })

  it('create `from` a forbidden model is refused', () => {
    expect(curator(CREATE, json({ model: 'qwen2.5:mine', from: 'secret-model' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('create `FROM` (case variant) a forbidden model is refused', () => {
    expect(curator(CREATE, raw('{"model":"qwen2.5:mine","from":"llama3.2","FROM":"secret-model"}'))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('create without `from` (from files) checks the new name, and needs models:upload (test/unit/rbac/models-upload.security.test.ts)', () => {
    expect(curator(CREATE, json({ model: 'qwen2.5:mine', files: { 'a.gguf': 'sha256:' + 'a'.repeat(64) } })))
      .toMatchObject({ ok: false, status: 403, reason: 'permission:models:upload', models: ['qwen2.5:mine'] })
    expect(authorize(policy, CREATE, ['model-loader'], json({ model: 'qwen2.5:mine', files: { 'a.gguf': 'sha256:' + 'a'.repeat(64) } }), {}))
      .toMatchObject({ ok: true, models: ['qwen2.5:mine'] })
  })

  it('create into a forbidden name is refused', () => {
    expect(curator(CREATE, json({ model: 'secret-model', from: 'llama3.2' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('the legacy `modelfile` and `path` fields of create (older Ollama read FROM from them) are refused', () => {
    for (const body of [{ model: 'qwen2.5:mine', modelfile: 'FROM secret-model' }, { model: 'qwen2.5:mine', Path: '/tmp/Modelfile' }]) {
      expect(curator(CREATE, json(body))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_BAD_REQUEST' })
    }
  })

  it('two models must be allowed by the same role', () => {
    const split = createPolicy({
      a: { permissions: ['models:manage'], models: ['llama3.2'] },
      b: { permissions: ['models:manage'], models: ['qwen2.5:*'] }
    })
    expect(authorize(split, COPY, ['a', 'b'], json({ source: 'llama3.2', destination: 'qwen2.5:copy' }), {}))
      .toMatchObject({ ok: false, status: 403, code: 'GH_ERR_MODEL_FORBIDDEN' })
  })

  it('a role without the permission does not lend its models to a role with it', () => {
    const split = createPolicy({
      reader: { permissions: ['models:read'], models: ['*'] },
      runner: { permissions: ['inference'], models: ['llama3.2'] }
    })
    expect(authorize(split, GENERATE, ['reader', 'runner'], json({ model: 'secret-model' }), {})).toMatchObject(forbidden('secret-model:latest'))
    expect(authorize(split, GENERATE, ['reader', 'runner'], json({ model: 'llama3.2' }), {})).toMatchObject({ ok: true })
  })
})

describe('model name spellings all reach the same canonical name', () => {
  const secret = [
    'secret-model', 'SECRET-MODEL', 'Secret-Model:Latest', 'secret-model:latest', 'library/secret-model',
    'library/secret-model:latest', 'registry.ollama.ai/library/secret-model', 'REGISTRY.OLLAMA.AI/Library/secret-model:latest',
    'https://registry.ollama.ai/library/secret-model', 'http://registry.ollama.ai/library/secret-model:latest'
  ]
  it.each(secret)('"%s" is secret-model:latest and refused', (name) => {
    expect(analyst(GENERATE, json({ model: name }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it.each(['llama3.2', 'LLAMA3.2', 'llama3.2:latest', 'library/llama3.2', 'registry.ollama.ai/library/llama3.2:latest'])('"%s" is llama3.2:latest and allowed', (name) => {
    const result = analyst(GENERATE, json({ model: name }))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    // upstream gets exactly the string that was checked
    expect(forwarded(result).body.model).toBe(name)
  })

  it('a tag-less glob means :latest only — llama3.2:1b is not llama3.2', () => {
    expect(analyst(GENERATE, json({ model: 'llama3.2:1b' }))).toMatchObject(forbidden('llama3.2:1b'))
  })

  it('qwen2.5:* does not reach into a namespace (evil/qwen2.5:7b) or another registry', () => {
    expect(analyst(GENERATE, json({ model: 'evil/qwen2.5:7b' }))).toMatchObject(forbidden('evil/qwen2.5:7b'))
    expect(analyst(GENERATE, json({ model: 'example.com/library/qwen2.5:7b' }))).toMatchObject(forbidden('example.com/library/qwen2.5:7b'))
  })

  it.each([
    'secret-model+q4_0', 'secret-model@sha256-' + 'a'.repeat(64), 'library\\secret-model', 'a/b/c/secret-model',
    'x/../secret-model', 'ftp://registry.ollama.ai/library/secret-model', 'llama3.2:latest:x', 'llama3.2 ', ' llama3.2',
    'llama3.2\u0000', 'llam\u0430', '', ':latest', 'library/', '/secret-model'
  ])('a name Ollama could read another way ("%s") is 400', (name) => {
    expect(analyst(GENERATE, json({ model: name }))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
  })
})

describe('the request body is read as Go reads it', () => {
  it('__proto__ keys neither pollute prototypes nor hide the model', () => {
    const result = analyst(GENERATE, raw('{"__proto__":{"model":"secret-model"},"model":"llama3.2","constructor":{"prototype":{"model":"x"}}}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(({} as Record<string, unknown>).model).toBeUndefined()
    expect(forwarded(result).keys).toEqual(['model', '__proto__', 'constructor'])
    expect(analyst(GENERATE, raw('{"__proto__":"x","model":"secret-model"}'))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('roles named like Object.prototype members grant nothing', () => {
    for (const role of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(authorize(policy, GENERATE, [role], json({ model: 'llama3.2' }), {})).toMatchObject({ ok: false, status: 403, code: 'GH_ERR_FORBIDDEN' })
    }
  })

  it.each([['a number', '1'], ['an array', '["llama3.2"]'], ['an object', '{"name":"llama3.2"}'], ['null', 'null'], ['a boolean', 'true']])(
    'a model that is %s is 400', (_, value) => {
      expect(analyst(GENERATE, raw(`{"model":${value}}`))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL', reason: 'invalid-model:not-string:model' })
    })

  it('a model nested elsewhere (options, messages) is not the model; the top-level one is', () => {
    const result = analyst(route('POST /api/chat'), json({ options: { model: 'secret-model' }, messages: [{ model: 'secret-model', role: 'user', content: 'x' }], model: 'llama3.2' }))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(analyst(route('POST /api/chat'), json({ options: { model: 'llama3.2' }, model: 'secret-model' }))).toMatchObject(forbidden('secret-model:latest'))
  })

  it('duplicates inside nested objects do not confuse the top-level reading', () => {
    const result = analyst(GENERATE, raw('{"options":{"model":"llama3.2","model":"secret-model"},"model":"llama3.2","x":[{"model":1,"model":{"model":"secret-model"}}]}'))
    expect(result).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
  })

  it('whitespace around the JSON is fine; a leading BOM is 400 as in Go', () => {
    expect(analyst(GENERATE, raw(' \r\n\t{ "model" : "llama3.2" }\n '))).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(analyst(GENERATE, raw('\ufeff{"model":"llama3.2"}'))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_JSON' })
  })

  it('a body that is not an object is 400 BODY_NOT_OBJECT', () => {
    for (const body of ['[{"model":"llama3.2"}]', '"llama3.2"', 'null', '42']) {
      expect(analyst(GENERATE, raw(body)), body).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_BODY_NOT_OBJECT' })
    }
  })

  it('an empty, malformed or trailing-garbage body is 400 INVALID_JSON (Go would read only the first value)', () => {
    for (const body of [null, raw(''), raw('  '), raw('{"model":"llama3.2"'), raw('{"model":"llama3.2"} {"model":"secret-model"}'), raw('{"model":"llama3.2",}'), raw("{'model':'llama3.2'}")]) {
      expect(analyst(GENERATE, body)).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_JSON' })
    }
  })

  it('a key with invalid UTF-8 or a lone surrogate is not the model field (Go reads U+FFFD)', () => {
    const badUtf8Key = Buffer.concat([raw('{"model":"llama3.2","mod'), Buffer.from([0xc0]), raw('el":"secret-model"}')])
    expect(analyst(GENERATE, badUtf8Key)).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
    expect(analyst(GENERATE, raw('{"model":"llama3.2","\\ud800model":"secret-model"}'))).toMatchObject({ ok: true, models: ['llama3.2:latest'] })
  })

  it('a model value with invalid UTF-8 or an overlong encoding is 400', () => {
    const overlong = Buffer.concat([raw('{"model":"llama3.2'), Buffer.from([0xc0, 0xae]), raw('"}')])
    expect(analyst(GENERATE, overlong)).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
  })

  it('everything but the model fields is forwarded byte for byte (no number rounding)', () => {
    const result = analyst(GENERATE, raw('{"model":"llama3.2","options":{"seed":12345678901234567890,"t":1.0e0,"z":-0},"prompt":"\\u00e9\\ud83d\\ude00"}'))
    expect(result.ok && result.forwardBody?.toString('utf8')).toBe('{"model":"llama3.2","options":{"seed":12345678901234567890,"t":1.0e0,"z":-0},"prompt":"\\u00e9\\ud83d\\ude00"}')
  })

  it('nesting deeper than Go allows is 400, and deep bodies do not overflow the stack', () => {
    const deep = (n: number) => raw(`{"model":"llama3.2","x":${'['.repeat(n)}${']'.repeat(n)}}`)
    expect(analyst(GENERATE, deep(9000))).toMatchObject({ ok: true })
    expect(analyst(GENERATE, deep(20000))).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_JSON' })
  })

  it('permission is checked before the body, so a caller without it learns nothing from body errors', () => {
    expect(authorize(policy, GENERATE, ['monitor'], raw('not json'), {})).toMatchObject({ ok: false, status: 403, code: 'GH_ERR_FORBIDDEN' })
  })
})

describe('GET /v1/models/{model} checks the path model', () => {
  it('a forbidden model in the path is refused', () => {
    expect(analyst(MODEL, null, { model: 'secret-model' })).toMatchObject(forbidden('secret-model:latest'))
    expect(analyst(MODEL, null, { model: 'registry.ollama.ai/library/secret-model' })).toMatchObject(forbidden('secret-model:latest'))
  })

  it('an allowed one passes; a missing or odd one is 400', () => {
    expect(analyst(MODEL, null, { model: 'qwen2.5:7b' })).toMatchObject({ ok: true, models: ['qwen2.5:7b'], forwardBody: null })
    expect(analyst(MODEL, null, {})).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
    expect(analyst(MODEL, null, { model: '../secret-model' })).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
  })
})

describe('denials map to the project error codes', () => {
  it('authzError builds the @fastify/error for each code, with its status', () => {
    const cases: Array<[AuthzResult, string, number]> = [
      [analyst(GENERATE, json({ model: 'secret-model' })), 'GH_ERR_MODEL_FORBIDDEN', 403],
      [authorize(policy, GENERATE, ['monitor'], null, {}), 'GH_ERR_FORBIDDEN', 403],
      [analyst(GENERATE, raw('{')), 'GH_ERR_INVALID_JSON', 400],
      [analyst(GENERATE, raw('[]')), 'GH_ERR_BODY_NOT_OBJECT', 400],
      [analyst(GENERATE, json({ model: 1 })), 'GH_ERR_INVALID_MODEL', 400],
      [curator(CREATE, json({ model: 'qwen2.5:x', modelfile: 'FROM x' })), 'GH_ERR_BAD_REQUEST', 400]
    ]
    for (const [result, code, status] of cases) {
      expect(result.ok).toBe(false)
      if (result.ok) continue
      expect(result.code).toBe(code)
      expect(authzError(result)).toMatchObject({ code, statusCode: status })
    }
  })

  it('reasons never carry body content beyond the canonical model name', () => {
    const result = analyst(GENERATE, json({ model: 'not a valid name with a secret in it' }))
    expect(result).toMatchObject({ ok: false, reason: 'invalid-model:name:model', models: [] })
  })
})

describe('a model denial names its models for the audit', () => {
  // the audit keeps only short tokens in gatehouse.reason (a name with "/" would become "other"), so
  // the models travel apart and reach gen_ai.request.model, the refused one first
  it('a namespaced model: the reason is a token, the model is in `models`', () => {
    expect(analyst(GENERATE, json({ model: 'bob/secret' }))).toEqual({
      ok: false, status: 403, code: 'GH_ERR_MODEL_FORBIDDEN', reason: 'model-forbidden', message: 'model not allowed for this role', models: ['bob/secret:latest']
    })
  })

  it('copy: both names, the refused one first, whichever field it came from', () => {
    expect(curator(COPY, json({ source: 'llama3.2', destination: 'bob/secret' }))).toMatchObject({ ok: false, reason: 'model-forbidden', models: ['bob/secret:latest', 'llama3.2:latest'] })
    expect(curator(COPY, json({ source: 'bob/secret', destination: 'qwen2.5:mine' }))).toMatchObject({ ok: false, reason: 'model-forbidden', models: ['bob/secret:latest', 'qwen2.5:mine'] })
  })

  it('copy split across roles (each name allowed by a different role): both names, in field order', () => {
    const split = createPolicy({ a: { permissions: ['models:manage'], models: ['llama3.2'] }, b: { permissions: ['models:manage'], models: ['qwen2.5:*'] } })
    expect(authorize(split, COPY, ['a', 'b'], json({ source: 'llama3.2', destination: 'qwen2.5:mine' }), {}))
      .toMatchObject({ ok: false, reason: 'model-forbidden', models: ['llama3.2:latest', 'qwen2.5:mine'] })
  })
})

describe('blob uploads', () => {
  it('are forwarded as received, byte for byte (the policy reads no model from them)', () => {
    const blob = Buffer.from([0x47, 0x47, 0x55, 0x46, 0x00, 0xff, 0x7b])
    const result = authorize(policy, route('POST /api/blobs/:digest'), ['admin'], blob, { digest: 'sha256:' + 'a'.repeat(64) })
    expect(result).toMatchObject({ ok: true, models: [], stream: null })
    expect(result.ok && result.forwardBody).toEqual(blob)
  })
})
