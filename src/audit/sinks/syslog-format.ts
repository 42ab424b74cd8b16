// RFC 5424 messages with RFC 6587 / RFC 5425 octet-counting framing (pure).
// Facility authpriv (10); the whole ECS event is the MSG, and the fields a syslog server routes on
// are repeated as structured data. 32473 is the private enterprise number reserved for examples.
import { severityOf } from '../actions.js'
import type { AuditEvent } from '../types.js'

const FACILITY_AUTHPRIV = 10
export const SD_ID = 'gatehouse@32473'

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash; controls become U+FFFD. */
export function escapeSdValue (s: string): string {
  return s.replace(CONTROL, '\uFFFD').replace(/["\\\]]/g, (c) => '\\' + c)
}

/** A header field: printable US-ASCII only, at most `max` characters, `-` when empty. */
export function headerField (s: string | undefined, max: number): string {
  const clean = (s ?? '').replace(/[^!-~]/g, '').slice(0, max)
  return clean.length > 0 ? clean : '-'
}

export interface SyslogHeader { appName: string, hostName?: string, procId: number | string }

export function formatSyslog (event: AuditEvent, line: string, h: SyslogHeader): string {
  const pri = FACILITY_AUTHPRIV * 8 + severityOf(event.event.action, event.event.outcome)
  const c = event.gatehouse.chain
  const params: Array<[string, string | undefined]> = [
    ['action', event.event.action],
    ['outcome', event.event.outcome],
    ['replica', c.replica],
    ['seq', String(c.seq)],
    ['hash', c.hash],
    ['user', event.user?.name],
    ['src', event.source?.ip],
    ['reqid', event.http?.request.id]
  ]
  const sd = '[' + SD_ID + params
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`).join('') + ']'
  return `<${pri}>1 ${event['@timestamp']} ${headerField(h.hostName, 255)} ${headerField(h.appName, 48)} ` +
    `${headerField(String(h.procId), 128)} ${headerField(event.event.action, 32)} ${sd} ${line}`
}

/** Octet-counting framing: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function frame (message: string): Buffer {
  const body = Buffer.from(message, 'utf8')
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body])
}
