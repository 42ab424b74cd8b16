// Sign-ins vouched for by an identity provider say so: event.provider, in canonical key order.
import { describe, expect, it } from 'vitest'
import { buildEvent } from '../../../src/audit/event.js'

const ctx = { time: Date.UTC(2026, 10, 26, 13, 14, 15, 16), replica: 'r1', hostName: 'gw1' }

describe('audit event provider', () => {
  it('a single sign-on login carries event.provider "oidc", between outcome and reason', () => {
    const ev = buildEvent({ action: 'login', outcome: 'failure', userName: 'alice', provider: 'oidc', reason: 'state_replayed' }, ctx)
    expect(ev.event).toMatchObject({ action: 'login', outcome: 'failure', provider: 'oidc', reason: 'state_replayed' })
    expect(Object.keys(ev.event)).toEqual(['action', 'category', 'kind', 'outcome', 'provider', 'reason', 'type'])
  })

  it('a password login has no provider, and an unknown provider value is dropped', () => {
    expect(buildEvent({ action: 'login', outcome: 'success', userName: 'alice' }, ctx).event).not.toHaveProperty('provider')
    const forged = buildEvent({ action: 'login', outcome: 'success', provider: 'saml' as 'oidc' }, ctx)
    expect(forged.event).not.toHaveProperty('provider')
  })
})
