// For any body mixing spellings of the model key with other members, the decision is taken on the
// value Go would read (the last spelling), and the forwarded body lets upstream read only that value.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { authorize } from '../../../src/rbac/authorize.js'
import { policy, route } from './fixtures.js'

const SPELLINGS = ['"model"', '"MODEL"', '"Model"', '"mOdEl"', '"mod\\u0065l"', '"MOD\\u0045L"']
// by hand: the analyst may use llama3.2:latest and qwen2.5:*
const VALUES: Record<string, boolean> = {
  'llama3.2': true, 'LLAMA3.2:latest': true, 'qwen2.5:7b': true, 'library/qwen2.5:0.5b': true,
  'secret-model': false, 'registry.ollama.ai/library/secret-model': false, 'llama3.2:1b': false, 'evil/qwen2.5:7b': false
}

const member = fc.oneof(
  fc.record({ model: fc.constant(true), key: fc.constantFrom(...SPELLINGS), value: fc.constantFrom(...Object.keys(VALUES)) }),
  fc.record({
    model: fc.constant(false),
    key: fc.oneof(fc.constantFrom('prompt', 'options', 'stream', 'keep_alive', '__proto__', 'name'), fc.string({ maxLength: 8 }))
      .filter((k) => k.toLowerCase() !== 'model'),
    value: fc.json({ maxDepth: 2 })
  })
)

describe('any mix of model spellings is decided on the last one, which alone reaches upstream', () => {
  it('holds for generated bodies', () => {
    fc.assert(fc.property(fc.array(member, { maxLength: 8 }), (members) => {
      const text = '{' + members.map((m) => m.model ? `${m.key}:${JSON.stringify(m.value)}` : `${JSON.stringify(m.key)}:${m.value}`).join(',') + '}'
      const result = authorize(policy, route('POST /api/generate'), ['analyst'], Buffer.from(text), {})
      const last = members.filter((m) => m.model).at(-1)
      if (last === undefined) {
        expect(result).toMatchObject({ ok: false, status: 400, code: 'GH_ERR_INVALID_MODEL' })
        return
      }
      if (VALUES[last.value] !== true) {
        expect(result).toMatchObject({ ok: false, status: 403, code: 'GH_ERR_MODEL_FORBIDDEN' })
        return
      }
      expect(result.ok).toBe(true)
      if (!result.ok || result.forwardBody === null) return
      const out = result.forwardBody.toString('utf8')
      // exactly one spelling of the key survives, and it holds the checked value
      expect(out.match(/"(?:[mM][oO][dD][eE][lL]|mod\\u0065l|MOD\\u0045L)"\s*:/g)).toHaveLength(1)
      const forwarded = JSON.parse(out) as Record<string, unknown>
      expect(forwarded.model).toBe(last.value)
      // every other member is unchanged
      const original = JSON.parse(text) as Record<string, unknown>
      for (const k of Object.keys(original)) if (k.toLowerCase() === 'model') delete original[k]
      delete forwarded.model
      expect(forwarded).toEqual(original)
    }), { numRuns: 1000 })
  })
})
