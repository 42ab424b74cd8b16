import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { escapeSdValue, formatSyslog, frame, headerField, SD_ID } from '../../../src/audit/sinks/syslog-format.js'
import { createChain } from '../../../src/audit/chain.js'
import { bounded, buildEvent } from '../../../src/audit/event.js'
import { displaySafeName } from '../../../src/audit/names.js'
import { serializeLine } from '../../../src/audit/serialize.js'
import type { AuditInput } from '../../../src/audit/index.js'

const key = Buffer.alloc(32, 3)
// eslint-disable-next-line no-control-regex -- what must never appear
const CONTROLS = /[\r\n\u0000-\u001f\u007f-\u009f\u2028\u2029]/
function message (input: AuditInput, hostName = 'gw1') {
  const ev = createChain(key, 'r1', null).link(buildEvent(input, { time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), replica: 'r1' }))
  const line = serializeLine(ev)
  return { ev, line, msg: formatSyslog(ev, line, { appName: 'gatehouse', hostName, procId: 4242 }) }
}

/** Splits RFC 5424 SD into [name, raw value] pairs, honouring the escapes. */
function sdParams (msg: string): Array<[string, string]> {
  const start = msg.indexOf('[' + SD_ID)
  const out: Array<[string, string]> = []
  const re = / ([a-z]+)="((?:\\.|[^"\\])*)"/y
  let at = start + 1 + SD_ID.length
  re.lastIndex = at
  for (let m = re.exec(msg); m; m = re.exec(msg)) {
    out.push([m[1] as string, (m[2] as string).replace(/\\(["\\\]])/g, '$1')])
    at = re.lastIndex
  }
  expect(msg[at]).toBe(']')
  return out
}

describe('syslog framing (RFC 6587 octet counting)', () => {
  it('prefixes the byte length, not the character length', () => {
    const f = frame('<86>1 é ✓')
    const sp = f.indexOf(0x20)
    expect(f.subarray(0, sp).toString()).toBe(String(Buffer.byteLength('<86>1 é ✓')))
    expect(Number(f.subarray(0, sp).toString())).toBe(f.length - sp - 1)
  })

  it('frames arbitrary messages so that a reader recovers each exactly', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 8 }), (msgs) => {
      const stream = Buffer.concat(msgs.map(frame))
      const back: string[] = []
      let i = 0
      while (i < stream.length) {
        const sp = stream.indexOf(0x20, i)
        const len = Number(stream.subarray(i, sp).toString())
        back.push(stream.subarray(sp + 1, sp + 1 + len).toString('utf8'))
        i = sp + 1 + len
      }
      expect(back).toEqual(msgs)
    }))
  })
})

describe('RFC 5424 message', () => {
  it('has PRI, version, UTC time, host, app, procid, msgid, SD and the JSON event as MSG', () => {
    const { msg, line } = message({ action: 'login', outcome: 'failure', userName: 'alice', sourceIp: '192.0.2.9', requestId: 'q1' })
    expect(msg.startsWith('<85>1 2026-01-02T03:04:05.006Z gw1 gatehouse 4242 login [gatehouse@32473 ')).toBe(true)
    expect(msg.endsWith('] ' + line)).toBe(true)
    expect(Object.fromEntries(sdParams(msg))).toMatchObject({ action: 'login', outcome: 'failure', replica: 'r1', seq: '1', user: 'alice', src: '192.0.2.9', reqid: 'q1' })
  })

  it('uses severity by action: informational, notice on failure, warning for a lock, error for a sink', () => {
    expect(message({ action: 'logout', outcome: 'success' }).msg.startsWith('<86>')).toBe(true)
    expect(message({ action: 'account-locked', outcome: 'success' }).msg.startsWith('<84>')).toBe(true)
    expect(message({ action: 'audit-sink-error', outcome: 'failure' }).msg.startsWith('<83>')).toBe(true)
  })

  it('escapes ", \\ and ] in SD-PARAM values', () => {
    expect(escapeSdValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d')
    const nasty = 'x"] [forged@1 user="root"] \\'
    const { msg } = message({ action: 'login', outcome: 'failure', userName: nasty })
    const params = sdParams(msg)
    expect(params.filter(([k]) => k === 'user')).toEqual([['user', nasty]])
    expect(msg.indexOf('[forged@1')).toBeGreaterThan(msg.indexOf(' user="'))
  })

  it('carries no raw CR, LF or other control character from any user string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string(), (user, reqId, path) => {
      const { msg, line } = message({
        action: 'model-request', outcome: 'success', userName: user, requestId: reqId,
        request: { method: 'POST', path, status: 200, durationNs: 1, decision: 'allow', model: user }
      }, user)
      expect(msg).not.toMatch(CONTROLS)
      expect(line).not.toMatch(CONTROLS)
      // the JSON keeps the value, escaped, so an auditor sees what was sent (invisible format
      // characters as visible markers: names.security.test.ts)
      expect(JSON.parse(line).user.name).toBe(bounded(displaySafeName(user).text, 256))
    }))
    const { msg } = message({ action: 'login', outcome: 'failure', userName: 'eve\r\n<13>1 - forged - - - - injected' })
    expect(msg.split('\n')).toHaveLength(1)
    expect(msg).toContain('eve\uFFFD\uFFFD<13>1')
  })

  it('keeps header fields to printable US-ASCII', () => {
    expect(headerField('gw 1\n', 255)).toBe('gw1')
    expect(headerField('', 48)).toBe('-')
    expect(headerField('ü', 48)).toBe('-')
  })
})
