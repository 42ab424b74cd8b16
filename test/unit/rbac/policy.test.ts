import { describe, expect, it } from 'vitest'
import { DEFAULT_ROLES, type RoleConfig } from '../../../src/config/schema.js'
import { compileModelGlob } from '../../../src/rbac/model-glob.js'
import { canonicalModel, parseModelName } from '../../../src/ollama/model-name.js'
import { createPolicy, roleModelProblems } from '../../../src/rbac/policy.js'
import { buildConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors.js'

describe('canonical model names (Ollama: registry.ollama.ai/library/NAME:latest by default, case-insensitive)', () => {
  it.each([
    ['llama3.2', 'llama3.2:latest'],
    ['LLama3.2:Latest', 'llama3.2:latest'],
    ['library/llama3.2', 'llama3.2:latest'],
    ['registry.ollama.ai/library/llama3.2:1b', 'llama3.2:1b'],
    ['registry.ollama.ai/bob/tiny', 'bob/tiny:latest'],
    ['bob/tiny:q4', 'bob/tiny:q4'],
    ['hf.co/Bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', 'hf.co/bartowski/llama-3.2-1b-instruct-gguf:q4_k_m'],
    ['example.com/library/x', 'example.com/library/x:latest'],
    ['localhost:5000/ns/x:v1', 'localhost:5000/ns/x:v1'],
    ['https://registry.ollama.ai/library/x', 'x:latest']
  ])('%s → %s', (name, canonical) => {
    expect(canonicalModel(name)).toBe(canonical)
    // canonical names are fixed points
    expect(canonicalModel(canonical)).toBe(canonical)
  })

  it.each(['', 'a b', 'x:y:z', 'a/b/c/d', 'x+Q4_0', 'x@sha256-abc', 'a\\b', 'a/../b', 'ns.with.dots/x', '.hidden', 'x:', 'ftp://h/n/x', 'ｍodel', 'mod\u0131l'])(
    '"%s" is refused', (name) => {
      expect(parseModelName(name)).toBeNull()
      expect(() => canonicalModel(name)).toThrow(expect.objectContaining({ code: 'GH_ERR_INVALID_MODEL' }))
    })

  it('non-strings are not names', () => {
    for (const v of [1, null, undefined, ['x'], { x: 1 }]) expect(parseModelName(v)).toBeNull()
  })
})

describe('model globs', () => {
  const matches = (glob: string, name: string): boolean => {
    const g = compileModelGlob(glob)
    if (typeof g === 'string') throw new Error(g)
    return g.test(canonicalModel(name))
  }

  it('"*" is every model, from any registry and namespace', () => {
    for (const n of ['x', 'bob/x:1', 'hf.co/a/b:c']) expect(matches('*', n)).toBe(true)
  })

  it('a name without tag or wildcard means :latest only', () => {
    expect(matches('llama3.2', 'llama3.2')).toBe(true)
    expect(matches('llama3.2', 'llama3.2:latest')).toBe(true)
    expect(matches('llama3.2', 'llama3.2:1b')).toBe(false)
    expect(matches('llama3.2', 'llama3.2-vision')).toBe(false)
  })

  it('name:* is every tag of that name and nothing else', () => {
    expect(matches('llama3.2:*', 'llama3.2:1b')).toBe(true)
    expect(matches('llama3.2:*', 'llama3.2')).toBe(true)
    expect(matches('llama3.2:*', 'llama3.2-vision:11b')).toBe(false)
    expect(matches('llama3.2:*', 'bob/llama3.2:1b')).toBe(false)
  })

  it('a prefix glob spans tags but never a "/"', () => {
    expect(matches('qwen*', 'qwen2.5:7b')).toBe(true)
    expect(matches('qwen*', 'qwen')).toBe(true)
    expect(matches('qwen*', 'qwen/evil:latest')).toBe(false)
    expect(matches('bob/*', 'bob/x:1')).toBe(true)
    expect(matches('bob/*', 'bobby/x:1')).toBe(false)
    expect(matches('hf.co/*/*', 'hf.co/a/b:c')).toBe(true)
  })

  it('globs are canonicalized like names (case, registry and library prefixes)', () => {
    expect(matches('Registry.Ollama.AI/Library/Llama3.2', 'LLAMA3.2:latest')).toBe(true)
    expect(matches('library/qwen2.5:*', 'qwen2.5:7b')).toBe(true)
  })

  it('regex metacharacters in a glob are literal', () => {
    expect(matches('llama3.2', 'llama3x2')).toBe(false)
  })

  it.each(['', 'a b', '**', 'x+y', 'a/b/c/d', '[ab]', 'x{1}', 'x?'])('"%s" is not a glob', (glob) => {
    expect(typeof compileModelGlob(glob)).toBe('string')
  })
})

describe('createPolicy', () => {
  const policy = createPolicy(DEFAULT_ROLES as Record<string, RoleConfig>)

  it('knows the configured roles', () => {
    expect(policy.roles().sort()).toEqual(['admin', 'model-loader', 'monitor', 'user'])
  })

  it('grants the documented default permissions and no others', () => {
    expect(policy.permits(['user'], 'inference')).toBe(true)
    expect(policy.permits(['user'], 'models:manage')).toBe(false)
    expect(policy.permits(['model-loader'], 'inference')).toBe(false)
    expect(policy.permits(['model-loader'], 'models:manage')).toBe(true)
    expect(policy.permits(['monitor'], 'metrics:read')).toBe(true)
    expect(policy.permits(['monitor'], 'models:read')).toBe(false)
    expect(policy.permits(['admin'], 'admin')).toBe(true)
    expect(policy.permits(['user'], 'admin')).toBe(false)
  })

  it('"*" grants every permission except pii:unmasked, which must be named', () => {
    expect(policy.permits(['admin'], 'pii:unmasked')).toBe(false)
    const named = createPolicy({ auditor: { permissions: ['pii:unmasked'], models: [] } })
    expect(named.permits(['auditor'], 'pii:unmasked')).toBe(true)
  })

  it('unknown roles and no roles grant nothing', () => {
    expect(policy.permits([], 'inference')).toBe(false)
    expect(policy.permits(['root'], 'inference')).toBe(false)
    expect(policy.modelAllowed(['root'], 'llama3.2:latest')).toBe(false)
  })

  it('the monitor may use no model; the others may use all', () => {
    expect(policy.modelAllowed(['monitor'], 'llama3.2:latest')).toBe(false)
    expect(policy.modelAllowed(['user'], 'hf.co/a/b:c')).toBe(true)
  })

  it('modelAllowed refuses a name it cannot read', () => {
    expect(policy.modelAllowed(['admin'], 'a/b/c/d')).toBe(false)
  })

  it('reports every bad model glob at once with its key path, and throws GH_ERR_CONFIG_INVALID', () => {
    const bad: Record<string, RoleConfig> = {
      ok: { permissions: ['inference'], models: ['llama3.2'] },
      typo: { permissions: ['inference'], models: ['llama 3', 'x+y'] }
    }
    expect(() => createPolicy(bad)).toThrow(expect.objectContaining({
      code: 'GH_ERR_CONFIG_INVALID',
      problems: [expect.stringMatching(/^rbac\.roles\.typo\.models\.0: /), expect.stringMatching(/^rbac\.roles\.typo\.models\.1: /)]
    }))
    expect(() => createPolicy(DEFAULT_ROLES as Record<string, RoleConfig>)).not.toThrow()
  })

  it('the config loader reports bad role names, permissions and model globs together, each once', () => {
    const raw = {
      listen: { port: -1 },
      rbac: { roles: { typo: { permissions: ['inference', 'model:read'], models: ['llama 3'] }, Bad: { permissions: [] } } }
    }
    const problemsOf = (doc: unknown): string[] => {
      try { buildConfig(doc, '/x', null, [roleModelProblems]) } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
      return []
    }
    expect(problemsOf(raw)).toEqual(expect.arrayContaining([
      'listen.port: must be >= 0',
      expect.stringMatching(/^rbac\.roles\.typo\.permissions\.1: must be one of "inference"/),
      expect.stringMatching(/^rbac\.roles\.Bad: name must match pattern/)
    ]))
    // the globs are checked once the shape is valid
    expect(problemsOf({ rbac: { roles: { typo: { permissions: ['inference'], models: ['llama 3'] } } } })).toEqual([
      expect.stringMatching(/^rbac\.roles\.typo\.models\.0: /)
    ])
    expect(problemsOf({ rbac: { roles: { ok: { permissions: ['inference'], models: ['llama3.2'] } } } })).toEqual([])
  })
})
