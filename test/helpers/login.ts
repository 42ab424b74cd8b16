// Logs a person in through the real /auth routes, enrolling TOTP on first login.
import { totpCodeAt } from './totp.js'
import { call, type TestGateway } from './gateway.js'

export interface Session { token: string, secret: string }

/** `stepOffset` 1 uses the next TOTP step (still inside the ±1 window) for a second login within 30 s */
export async function loginWithMfa (gw: TestGateway, username: string, password: string, secret?: string, stepOffset = 0): Promise<Session> {
  const l = await call(gw, 'POST', '/auth/login', { anonymous: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (l.status !== 200) throw new Error(`login failed: ${l.status} ${l.text}`)
  const body = l.json as { status: string, mfa_token: string, otpauth_url?: string, access_token?: string }
  if (body.status === 'ok') return { token: body.access_token as string, secret: '' }
  const s = secret ?? new URL(body.otpauth_url as string).searchParams.get('secret') as string
  const code = await totpCodeAt(s, Date.now() + stepOffset * 30_000)
  const m = await call(gw, 'POST', '/auth/mfa', { anonymous: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mfa_token: body.mfa_token, code }) })
  if (m.status !== 200) throw new Error(`mfa failed: ${m.status} ${m.text}`)
  return { token: (m.json as { access_token: string }).access_token, secret: s }
}
