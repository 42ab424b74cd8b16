// The chain writes each event's line from the canonical text it hashed (no second serialization):
// that line must be exactly what serializeLine writes for the linked event, whatever the fields hold.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createChain, expectedHash } from '../../../src/audit/chain.js'
import { buildEvent } from '../../../src/audit/event.js'
import { serializeLine } from '../../../src/audit/serialize.js'
import type { AuditInput } from '../../../src/audit/index.js'
import { keys } from './fixtures.js'

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  // what a name could hold to look like a chain link, or to break a line
  fc.constantFrom('"chain":{"prev":"' + '0'.repeat(64) + '","replica":"r1","seq":1}', '\u2028', '\u0085x', '}"\\', 'a\u007fb')
)

describe('linked event lines', () => {
  it('are serializeLine of the linked event, and their hash verifies', () => {
    fc.assert(fc.property(fc.array(fc.record({ user: text, path: text, model: text, attempts: fc.option(fc.integer({ min: 1, max: 3 })) }),
      { minLength: 1, maxLength: 5 }), fc.constantFrom('r1', 'gw-a.example', 'r1-cli'), (inputs, replica) => {
      const chain = createChain(keys.chainKey, replica, null)
      for (const [i, x] of inputs.entries()) {
        const input: AuditInput = {
          action: 'model-request', outcome: 'success', userName: x.user, sourceIp: '203.0.113.7', requestId: `r-${i}`,
          ...(x.attempts === null ? {} : { attempts: x.attempts }),
          request: { method: 'POST', path: x.path, status: 200, durationNs: 1000n, model: x.model, decision: 'allow', credential: 'api_key' }
        } as AuditInput
        const { event, line } = chain.linkLine(buildEvent(input, { time: 1_700_000_000_000 + i, replica }))
        expect(line).toBe(serializeLine(event))
        expect(JSON.parse(line)).toEqual(JSON.parse(serializeLine(event)))
        expect(expectedHash(keys.chainKey, event)).toBe(event.gatehouse.chain.hash)
      }
    }), { numRuns: 200 })
  })

  it('falls back to serializing the event when its fields are not in canonical order', () => {
    const chain = createChain(keys.chainKey, 'r1', null)
    const built = buildEvent({ action: 'login', outcome: 'success', userName: 'alice' }, { time: 0, replica: 'r1' })
    // a key out of order: the canonical form is no longer the plain JSON.stringify of the object
    const unordered = { zz: 1, ...built } as unknown as typeof built
    const { event, line } = chain.linkLine(unordered)
    expect(line).toBe(serializeLine(event))
    expect(expectedHash(keys.chainKey, event)).toBe(event.gatehouse.chain.hash)
  })
})
