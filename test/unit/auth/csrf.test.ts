// The CSRF decision: JSON is required for every state change, and a cookie-authenticated one must
// come from the gateway's own origin or a configured one.
import { describe, expect, it } from 'vitest'
import { csrfVerdict, isJsonMediaType, type CsrfInput } from '../../../src/auth/csrf.js'

const base: CsrfInput = {
  method: 'POST', contentType: 'application/json', hasAuthorization: false, hasSessionCookie: true,
  origin: undefined, secFetchSite: undefined, host: 'gate.example:8443'
}

describe('csrfVerdict', () => {
  it('reads are never refused', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(csrfVerdict({ ...base, method, contentType: undefined, origin: 'https://evil.example' }, [])).toBe('ok')
  })
  it('a state change without application/json is media-type, whatever the credential', () => {
    for (const contentType of [undefined, '', 'text/plain', 'application/jsonx', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
      expect(csrfVerdict({ ...base, contentType }, [])).toBe('media-type')
      expect(csrfVerdict({ ...base, contentType, hasAuthorization: true, hasSessionCookie: false }, [])).toBe('media-type')
    }
    expect(isJsonMediaType('Application/JSON; charset=utf-8')).toBe(true)
  })
  it('a cookie request from the own origin, or a configured one, is ok; any other origin is cross-site', () => {
    expect(csrfVerdict({ ...base, origin: 'https://gate.example:8443' }, [])).toBe('ok')
    expect(csrfVerdict({ ...base, origin: 'HTTPS://GATE.EXAMPLE:8443' }, [])).toBe('ok')
    expect(csrfVerdict({ ...base, origin: 'http://gate.example:8443' }, [])).toBe('cross-site')
    expect(csrfVerdict({ ...base, origin: 'https://gate.example' }, [])).toBe('cross-site')
    expect(csrfVerdict({ ...base, origin: 'null' }, [])).toBe('cross-site')
    expect(csrfVerdict({ ...base, origin: 'https://console.example' }, ['https://console.example'])).toBe('ok')
  })
  it('without Origin, Sec-Fetch-Site decides; with neither the client is not a browser', () => {
    expect(csrfVerdict({ ...base, secFetchSite: 'same-origin' }, [])).toBe('ok')
    for (const s of ['same-site', 'cross-site', 'none']) expect(csrfVerdict({ ...base, secFetchSite: s }, [])).toBe('cross-site')
    expect(csrfVerdict(base, [])).toBe('ok')
  })
  it('a Bearer request (an Authorization header: the cookie is ignored) is not subject to the origin check', () => {
    expect(csrfVerdict({ ...base, hasAuthorization: true, origin: 'https://evil.example' }, [])).toBe('ok')
    expect(csrfVerdict({ ...base, hasSessionCookie: false, origin: 'https://evil.example' }, [])).toBe('ok')
  })
})
