// Enrollment on a terminal: `gatehouse mfa qr` draws the otpauth URL of a login reply as a QR code
// an authenticator app scans, drawn here (nothing is sent anywhere), with the secret as text for
// typing in. It reads the URL, or the whole login reply, from standard input, so the secret never
// sits in the shell's history or the process list:
//   curl … /auth/login -d '{…}' | gatehouse mfa qr
import QRCode from 'qrcode'
import { errors } from '../errors.js'
import type { ParsedArgs } from './args.js'
import type { Io } from './output.js'

/** The QR code of `text` in terminal characters (two modules per character cell). */
export async function terminalQr (text: string): Promise<string> {
  const lines = (await QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' })).split('\n')
  // the renderer ends with lines of colour codes and nothing to see
  // eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
  while (lines.length > 0 && (lines.at(-1) as string).replace(/\u001b\[[0-9;]*m/g, '').trim() === '') lines.pop()
  return lines.join('\n')
}

interface Enrollment { url: URL, mfaToken: string | null }

/** An otpauth://totp URL with a secret, given bare or as `otpauth_url` of a login reply. */
function readEnrollment (input: string): Enrollment {
  const text = input.trim()
  let candidate = text
  let mfaToken: string | null = null
  if (text.startsWith('{')) {
    let reply: unknown
    try { reply = JSON.parse(text) } catch { throw new errors.USAGE('mfa qr: standard input is neither an otpauth:// URL nor a JSON login reply') }
    const r = reply as { otpauth_url?: unknown, mfa_token?: unknown, status?: unknown }
    if (typeof r.otpauth_url !== 'string') {
      const status = typeof r.status === 'string' ? ` (status ${r.status}: enrollment is not required)` : ''
      throw new errors.USAGE(`mfa qr: the login reply holds no otpauth_url${status}`)
    }
    candidate = r.otpauth_url
    mfaToken = typeof r.mfa_token === 'string' ? r.mfa_token : null
  }
  let url: URL
  try { url = new URL(candidate) } catch { throw new errors.USAGE('mfa qr: standard input is neither an otpauth:// URL nor a JSON login reply') }
  if (url.protocol !== 'otpauth:' || url.host !== 'totp' || !url.searchParams.get('secret')) {
    throw new errors.USAGE('mfa qr: expected an otpauth://totp/… URL with a secret')
  }
  return { url, mfaToken }
}

/** The lines that show an enrollment on a terminal: QR code, account, secret, and the mfa_token when known. */
async function enrollmentLines (e: Enrollment): Promise<string[]> {
  const account = decodeURIComponent(e.url.pathname.replace(/^\/+/, ''))
  const secret = e.url.searchParams.get('secret') as string
  return [
    await terminalQr(e.url.href),
    `scan it with an authenticator app, or add ${account} by hand with the secret ${secret}`,
    ...(e.mfaToken ? [`then send the app's current code with this mfa_token to POST /auth/mfa: ${e.mfaToken}`] : [])
  ]
}

export async function mfaQr (args: ParsedArgs, io: Io): Promise<number> {
  if (args.command.length > 2) {
    throw new errors.USAGE('mfa qr reads the URL from standard input, not from arguments ' +
      '(they would show in the process list and shell history)')
  }
  const input = io.readPassword ? await io.readPassword('otpauth URL or login reply (not echoed): ') : await io.readStdin()
  const lines = await enrollmentLines(readEnrollment(input))
  io.out(lines.join('\n'))
  return 0
}
