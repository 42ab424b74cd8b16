// TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) on otplib v13, and the at-rest encryption of
// secrets. Replay protection (a step is accepted once, and nothing at or before it) lives in the
// store's atomic claimTotpStep; this module only says which step a code matches.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { generateSecret, generateURI, verify } from 'otplib'

export const TOTP_PERIOD_SECONDS = 30
const TOTP_ISSUER = 'Gatehouse'

/** 20 random bytes (160 bits, RFC 4226's recommendation) from the platform CSPRNG, Base32. */
export function generateTotpSecret (): string {
  return generateSecret({ length: 20 })
}

/** otpauth://totp/Gatehouse:NAME?secret=…&issuer=Gatehouse */
export function otpauthUrl (username: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: username, secret })
}

/** Only exactly six ASCII digits: fullwidth or other Unicode digits and 7-digit codes are refused. */
export function isWellFormedCode (code: unknown): code is string {
  return typeof code === 'string' && /^[0-9]{6}$/.test(code)
}

/** The time step of `nowMs`. */
export function totpStep (nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS)
}

/** The time step (current, previous or next) whose code equals `code`, or null. Constant-time compare. */
export async function matchTotpStep (secret: string, code: string, nowMs: number): Promise<number | null> {
  if (!isWellFormedCode(code)) return null
  const result = await verify({
    secret, token: code, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS, epochTolerance: TOTP_PERIOD_SECONDS
  })
  return result.valid && 'timeStep' in result ? result.timeStep : null
}

export interface SecretBox {
  /** base64(iv | tag | ciphertext); `context` (the username) is bound as AAD so rows cannot be swapped */
  encrypt: (plain: string, context: string) => string
  /** throws when the key, the context or the ciphertext does not match */
  decrypt: (sealed: string, context: string) => string
}

/** AES-256-GCM with a 96-bit random IV per message. */
export function createSecretBox (key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('TOTP encryption key must be 32 bytes')
  return {
    encrypt (plain, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')
    },
    decrypt (sealed, context) {
      const raw = Buffer.from(sealed, 'base64')
      if (raw.length < 29) throw new Error('sealed secret too short')
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
      decipher.setAAD(Buffer.from(context, 'utf8'))
      decipher.setAuthTag(raw.subarray(12, 28))
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    }
  }
}
