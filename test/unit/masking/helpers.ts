// Shared fixtures for the masking tests.
import { createMaskingEngine, type MaskingEngine } from '../../../src/masking/index.js'

const KEY = Buffer.alloc(32, 7)
const ALL = ['ssn', 'email', 'phone', 'credit_card', 'iban', 'secret', 'ipv4']

export function engine (entities: string[] = ALL, custom: Array<{ name: string, pattern: string, flags: string, maxLength: number }> = []): MaskingEngine {
  return createMaskingEngine({ entities, custom, key: KEY })
}

/** PII values of every entity the tests enable, as a model may write them. */
export const SEEDS = [
  '123-45-6789', '234 56 7890', 'jane.doe@example.com', 'a_b+c@sub.mail.co.uk', '(212) 555-0123',
  '+44 20 7946 0958', '212.555.0199', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005',
  'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', '192.168.1.20', 'AKIAIOSFODNN7EXAMPLE',
  'ghk_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n-----END RSA PRIVATE KEY-----'
]

/** Every way to cut `s` into two pieces, and some into three. */
export function* splits (s: string): Generator<string[]> {
  for (let i = 0; i <= s.length; i++) yield [s.slice(0, i), s.slice(i)]
}

const TOKEN_RE = /\[MASKED_([A-Z0-9_]+)_[0-9a-f]{8}\]/g
export const tokenTypes = (s: string): string[] => [...s.matchAll(TOKEN_RE)].map((m) => m[1] as string)

import type { ReplyStage } from '../../../src/ollama/reply-stage.js'

/**
 * Feeds byte chunks through a reply stage as the proxy does (ending it unless it closed the reply);
 * returns each output that carried bytes, as text.
 */
export function runStage (stage: ReplyStage, chunks: Buffer[]): string[] {
  const out: string[] = []
  const keep = (b: Buffer): void => { if (b.length > 0) out.push(b.toString('utf8')) }
  for (const c of chunks) {
    keep(stage.push(c))
    if (stage.closed) return out
  }
  keep(stage.end())
  return out
}

/** Cuts a byte string at the given offsets. */
export function cutBytes (b: Buffer, at: number[]): Buffer[] {
  const pts = [...new Set(at.filter((x) => x > 0 && x < b.length))].sort((x, y) => x - y)
  const out: Buffer[] = []
  let prev = 0
  for (const p of pts) { out.push(b.subarray(prev, p)); prev = p }
  out.push(b.subarray(prev))
  return out
}

export const newObs = (): { masked: Record<string, number>, usage: { input: number | null, output: number | null } } =>
  ({ masked: {}, usage: { input: null, output: null } })
