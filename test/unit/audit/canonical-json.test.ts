// canonicalJson takes a shortcut (one native JSON.stringify) when a value is already in canonical
// order. The audit chain's hashes and the checkpoint signatures depend on its bytes, so the shortcut
// must give exactly what sorting every object's keys gives, for every value — and audit events must
// be built so that they take it.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { canonicalJson } from '../../../src/canonical-json.js'
import { buildEvent } from '../../../src/audit/event.js'
import { sampleInput } from './fixtures.js'

/** The definition, written the slow way: sort every object's keys, drop undefined members. */
function reference (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map(reference).join(',') + ']'
  const o = v as Record<string, unknown>
  return '{' + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ':' + reference(o[k])).join(',') + '}'
}

/** Keys in sorted order at every level (what the shortcut needs). */
function sortedDeep (v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(sortedDeep)
  const o = v as Record<string, unknown>
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortedDeep(o[k])]))
}

const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    // keys include integer-like ones ("9", "10"), which objects order numerically, not as strings
    fc.dictionary(fc.oneof(fc.string(), fc.nat({ max: 20 }).map(String)), tie('value'), { maxKeys: 5 })
  )
})).value

describe('canonicalJson', () => {
  it('equals the definition for any value, in any key order and in sorted order', () => {
    fc.assert(fc.property(anyValue, (v) => {
      expect(canonicalJson(v)).toBe(reference(v))
      expect(canonicalJson(sortedDeep(v))).toBe(reference(v))
    }), { numRuns: 3000 })
  })

  it('sorts what is out of order at any depth, and does not take a Date or a toJSON for a plain object', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}')
    expect(canonicalJson({ '10': 1, '9': 2 })).toBe('{"10":1,"9":2}')
    expect(canonicalJson({ a: new Date(0) })).toBe('{"a":{}}')
    expect(canonicalJson({ a: 1, toJSON: () => 'x' })).toBe('{"a":1,"toJSON":null}')
    expect(canonicalJson([undefined, 1])).toBe('[null,1]')
  })

  it('audit events are built in canonical order, so hashing them is one JSON.stringify', () => {
    for (let i = 0; i < 40; i++) {
      const ev = buildEvent(sampleInput(i), { time: Date.UTC(2026, 10, 26), replica: 'r1', hostName: 'gw' })
      const withChain = { ...ev, gatehouse: { chain: { prev: '0'.repeat(64), replica: 'r1', seq: i + 1 }, ...ev.gatehouse } }
      expect(JSON.stringify(withChain), `sample ${i} (${sampleInput(i).action})`).toBe(reference(withChain))
    }
  })
})
