// Security: a name in an audit event cannot pass for another on an auditor's screen. Bidi controls
// and other invisible format characters are written as visible <U+XXXX> markers, and names with
// such characters or with letters from two scripts carry gatehouse.suspicious_name.
import { describe, expect, it } from 'vitest'
import { buildEvent } from '../../../src/audit/event.js'
import { serializeLine } from '../../../src/audit/serialize.js'
import { createChain } from '../../../src/audit/chain.js'
import { displaySafeName, mixesScripts } from '../../../src/audit/names.js'
import type { AuditInput } from '../../../src/audit/index.js'

const ctx = { time: Date.UTC(2026, 11, 7, 4, 0, 0), replica: 'r1' }
const login = (userName: string): AuditInput => ({ action: 'login', outcome: 'failure', userName, sourceIp: '203.0.113.7', reason: 'unknown_user' })

describe('names in audit events', () => {
  it('a right-to-left override is written as a visible marker and flagged', () => {
    const ev = buildEvent(login('admin\u202Egnp.exe'), ctx)
    expect(ev.user?.name).toBe('admin<U+202E>gnp.exe')
    expect(ev.gatehouse.suspicious_name).toBe(true)
    const line = serializeLine(createChain(Buffer.alloc(32, 1), 'r1', null).link(ev))
    expect(line).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\uFEFF]/)
    expect(line).not.toContain('\\u202e')
  })

  it('every kind of invisible format character is made visible: isolates, zero-width, BOM, tags', () => {
    for (const c of ['\u2066', '\u2067', '\u2068', '\u2069', '\u200B', '\u200D', '\u200E', '\u200F', '\uFEFF', '\u061C', '\u{E0041}']) {
      const d = displaySafeName(`ali${c}ce`)
      expect(d.suspicious).toBe(true)
      expect(d.text).toMatch(/^ali<U\+[0-9A-F]{4,5}>ce$/)
    }
  })

  it('letters from two scripts (Cyrillic а in аdmin) are flagged; one script, digits and punctuation are not', () => {
    expect(mixesScripts('\u0430dmin')).toBe(true) // Cyrillic а + Latin
    expect(mixesScripts('p\u0430ypal.com')).toBe(true)
    expect(mixesScripts('αlice')).toBe(true) // Greek alpha + Latin
    expect(mixesScripts('alice.smith-2@example')).toBe(false)
    expect(mixesScripts('josé')).toBe(false)
    expect(mixesScripts('владимир')).toBe(false)
    expect(mixesScripts('山田たろう')).toBe(false) // Han + Hiragana: one writing system
    const ev = buildEvent(login('\u0430dmin'), ctx)
    expect(ev.user?.name).toBe('\u0430dmin') // kept as sent (it is visible), but flagged
    expect(ev.gatehouse.suspicious_name).toBe(true)
  })

  it('an ordinary name is not flagged, and the field is absent', () => {
    const ev = buildEvent(login('alice'), ctx)
    expect(ev.user?.name).toBe('alice')
    expect(ev.gatehouse.suspicious_name).toBeUndefined()
  })

  it('the target of an admin change is treated the same way', () => {
    const ev = buildEvent({ action: 'user-disabled', outcome: 'success', userName: 'admin', target: { userName: 'bob\u202E' } }, ctx)
    expect(ev.user?.target?.name).toBe('bob<U+202E>')
    expect(ev.gatehouse.suspicious_name).toBe(true)
  })
})
