import { describe, expect, it } from 'vitest'
import { counterKey, firstExceeded, isoSeconds, limitsFor, periodWindow, quotaMessage } from '../../../src/quotas/rules.js'

const rules = [
  { role: 'user', tokensPerDay: 200000, tokensPerMonth: 3000000 },
  { user: 'alice', tokensPerDay: 1000000 },
  { key: 'ci-bot', tokensPerDay: 50000 }
]

describe('quota rules', () => {
  it('every matching rule applies: role and user rules to a user, role and key rules to a key', () => {
    expect(limitsFor(rules, { credential: 'session', name: 'alice', roles: ['user'] })).toEqual([
      { period: 'day', tokens: 200000, subject: 'role user' },
      { period: 'month', tokens: 3000000, subject: 'role user' },
      { period: 'day', tokens: 1000000, subject: 'user alice' }
    ])
    expect(limitsFor(rules, { credential: 'api_key', name: 'ci-bot', roles: ['user'] }).map((l) => l.subject))
      .toEqual(['role user', 'role user', 'key ci-bot'])
  })

  it('a user rule never matches a key of the same name, nor a key rule a user', () => {
    expect(limitsFor(rules, { credential: 'api_key', name: 'alice', roles: ['monitor'] })).toEqual([])
    expect(limitsFor(rules, { credential: 'session', name: 'ci-bot', roles: ['admin'] })).toEqual([])
  })

  it('days and months are UTC, and end at the next midnight / the 1st', () => {
    const t = Date.UTC(2026, 11, 7, 23, 59, 59, 999)
    expect(periodWindow('day', t)).toEqual({ id: '2026-12-07', start: Date.UTC(2026, 11, 7), end: Date.UTC(2026, 11, 8) })
    expect(periodWindow('day', t + 1).id).toBe('2026-12-08')
    expect(periodWindow('month', t)).toEqual({ id: '2026-12', start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) })
    expect(periodWindow('month', Date.UTC(2028, 1, 29, 12)).end).toBe(Date.UTC(2028, 2, 1))
  })

  it('counter keys keep users and keys, periods and windows apart', () => {
    const w = periodWindow('day', Date.UTC(2026, 11, 7))
    expect(counterKey({ credential: 'session', name: 'x' }, 'day', w)).toBe('quota:day:user:x:2026-12-07')
    expect(counterKey({ credential: 'api_key', name: 'x' }, 'day', w)).toBe('quota:day:key:x:2026-12-07')
  })

  it('a limit is reached at exactly its tokens, not one below', () => {
    const limits = [{ period: 'day' as const, tokens: 100, subject: 'role user' }]
    expect(firstExceeded(limits, { day: 99, month: 0 })).toBeNull()
    expect(firstExceeded(limits, { day: 100, month: 0 })).toEqual(limits[0])
    expect(firstExceeded(limits, { day: 101, month: 0 })).toEqual(limits[0])
  })

  it('the refusal reads as documented', () => {
    expect(quotaMessage({ period: 'day', tokens: 200000, subject: 'role user' }, Date.UTC(2026, 11, 8)))
      .toBe('token quota exceeded: 200000 tokens per day (role user); resets at 2026-12-08T00:00:00Z')
    expect(isoSeconds(Date.UTC(2027, 0, 1))).toBe('2027-01-01T00:00:00Z')
  })
})

describe('quota configuration', async () => {
  const { buildConfig } = await import('../../../src/config/load.js')
  const { ConfigError } = await import('../../../src/errors.js')
  const problemsOf = (raw: unknown): string[] => {
    try { buildConfig(raw, '/etc/gatehouse') } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
    return []
  }

  it('defaults: no rules, records kept 400 days', () => {
    const c = buildConfig({}, '/etc/gatehouse')
    expect(c.quotas.rules).toEqual([])
    expect(c.usage.retentionDays).toBe(400)
  })

  it('each rule names exactly one of role, user, key, has a limit, and a known role; all problems at once', () => {
    expect(problemsOf({
      quotas: {
        rules: [
          { role: 'user', user: 'alice', tokensPerDay: 1 },
          { key: 'ci-bot' },
          { role: 'nobody', tokensPerMonth: 5 },
          { tokensPerDay: 1 },
          { key: 'ok', tokensPerDay: 0, extra: true }
        ]
      },
      usage: { retentionDays: 0 }
    })).toEqual(expect.arrayContaining([
      'quotas.rules.4.extra: unknown key',
      'quotas.rules.4.tokensPerDay: must be >= 1',
      'usage.retentionDays: must be >= 1'
    ]))
    expect(problemsOf({
      quotas: { rules: [{ role: 'user', user: 'alice', tokensPerDay: 1 }, { key: 'ci-bot' }, { role: 'nobody', tokensPerMonth: 5 }, { tokensPerDay: 1 }] }
    })).toEqual([
      'quotas.rules.0: must have exactly one of role, user, key',
      'quotas.rules.1: must have tokensPerDay or tokensPerMonth',
      'quotas.rules.2.role: unknown role "nobody"',
      'quotas.rules.3: must have exactly one of role, user, key'
    ])
  })
})
