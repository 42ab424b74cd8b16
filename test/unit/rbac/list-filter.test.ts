// Model lists show only the models the caller may use; a reply that cannot be read is refused.
import { describe, expect, it } from 'vitest'
import { filterOpenAiModels, filterTags } from '../../../src/rbac/list-filter.js'
import { json, policy, raw } from './fixtures.js'

const analyst = (m: string): boolean => policy.modelAllowed(['analyst'], m)
const monitor = (m: string): boolean => policy.modelAllowed(['monitor'], m)
const parse = (b: Buffer): unknown => JSON.parse(b.toString('utf8'))

const entry = (name: string) => ({ name, model: name, size: 1, digest: 'd', details: { family: 'x' } })

describe('/api/tags and /api/ps', () => {
  const reply = json({
    models: [
      entry('llama3.2:latest'), entry('llama3.2:1b'), entry('qwen2.5:7b'), entry('secret-model:latest'),
      entry('evil/qwen2.5:7b'), entry('Registry.Ollama.AI/library/QWEN2.5:0.5b'), entry('not a name')
    ]
  })

  it('keep only the models the role may use, whatever the spelling', () => {
    expect(parse(filterTags(reply, analyst))).toEqual({
      models: [entry('llama3.2:latest'), entry('qwen2.5:7b'), entry('Registry.Ollama.AI/library/QWEN2.5:0.5b')]
    })
  })

  it('a role with no models sees an empty list', () => {
    expect(parse(filterTags(reply, monitor))).toEqual({ models: [] })
  })

  it('an entry whose name and model disagree is kept only when both are allowed', () => {
    const mixed = json({ models: [{ name: 'llama3.2:latest', model: 'secret-model:latest' }, { name: 'qwen2.5:7b' }, { size: 1 }] })
    expect(parse(filterTags(mixed, analyst))).toEqual({ models: [{ name: 'qwen2.5:7b' }] })
  })

  it('other top-level fields are kept', () => {
    expect(parse(filterTags(json({ models: [entry('secret-model')], extra: 1 }), analyst))).toEqual({ models: [], extra: 1 })
  })

  it('an empty (HEAD) reply stays empty; null models stay null', () => {
    expect(filterTags(Buffer.alloc(0), analyst)).toHaveLength(0)
    expect(parse(filterTags(json({ models: null }), analyst))).toEqual({ models: null })
  })

  it('an unreadable reply is refused with GH_ERR_UPSTREAM_BAD_REPLY, never passed through', () => {
    for (const body of [raw('{"models":[{"name":"secret-model"'), raw('[]'), json({ models: { name: 'secret-model' } }), raw('null')]) {
      expect(() => filterTags(body, analyst)).toThrow(expect.objectContaining({ code: 'GH_ERR_UPSTREAM_BAD_REPLY' }))
    }
  })

  it('__proto__ in a reply is plain data', () => {
    const out = filterTags(raw('{"__proto__":{"polluted":1},"models":[{"name":"llama3.2","__proto__":{"x":1}}]}'), analyst)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(out.toString('utf8')).toBe('{"__proto__":{"polluted":1},"models":[{"name":"llama3.2","__proto__":{"x":1}}]}')
  })
})

describe('/v1/models', () => {
  it('keeps only the allowed ids', () => {
    const reply = json({
      object: 'list',
      data: [
        { id: 'llama3.2:latest', object: 'model', created: 1, owned_by: 'library' },
        { id: 'secret-model:latest', object: 'model', created: 1, owned_by: 'library' },
        { id: 'qwen2.5:7b', object: 'model', created: 1, owned_by: 'library' }
      ]
    })
    expect(parse(filterOpenAiModels(reply, analyst))).toEqual({
      object: 'list',
      data: [
        { id: 'llama3.2:latest', object: 'model', created: 1, owned_by: 'library' },
        { id: 'qwen2.5:7b', object: 'model', created: 1, owned_by: 'library' }
      ]
    })
  })
})
