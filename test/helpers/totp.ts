// The TOTP code an authenticator app would show at a given time, for logging in from tests.
import { generate } from 'otplib'
import { TOTP_PERIOD_SECONDS } from '../../src/auth/totp.js'

export function totpCodeAt (secret: string, nowMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS })
}
