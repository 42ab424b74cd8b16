// The hash chain (pure): hash = HMAC-SHA256(key, prev "\n" canonical(event without chain.hash)).
import { createHash, type Hash } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'
import type { AuditEvent, ChainLink } from './types.js'

export const GENESIS = '0'.repeat(64)
export const REPLICA_ID = /^[A-Za-z0-9._-]{1,64}$/

export interface ChainPoint { seq: number, hash: string }

type EventWithoutHash = Omit<AuditEvent, 'gatehouse'> & {
  gatehouse: Omit<AuditEvent['gatehouse'], 'chain'> & { chain: Omit<ChainLink, 'hash'> }
}

/**
 * HMAC-SHA256 (RFC 2104) with the key's inner and outer pads absorbed once: each event then costs
 * two copies of a hash state instead of a fresh HMAC set-up, which roughly halves the chain's cost.
 */
export function hmacSha256 (key: Buffer): (parts: string[]) => string {
  const k = key.length > 64 ? createHash('sha256').update(key).digest() : key
  const pad = (byte: number) => { const b = Buffer.alloc(64, byte); for (let i = 0; i < k.length; i++) b[i] = (b[i] as number) ^ (k[i] as number); return b }
  const inner: Hash = createHash('sha256').update(pad(0x36))
  const outer: Hash = createHash('sha256').update(pad(0x5c))
  return (parts) => {
    const h = inner.copy()
    for (const p of parts) h.update(p)
    return outer.copy().update(h.digest()).digest('hex')
  }
}

const macs = new WeakMap<Buffer, (parts: string[]) => string>()
function macFor (key: Buffer) {
  let m = macs.get(key)
  if (!m) { m = hmacSha256(key); macs.set(key, m) }
  return m
}

export function chainHash (key: Buffer, prev: string, unhashed: EventWithoutHash): string {
  return macFor(key)([prev, '\n', canonicalJson(unhashed)])
}

/** Recomputes the hash an event claims; used by the verifier. */
export function expectedHash (key: Buffer, event: AuditEvent): string {
  const { hash: _hash, ...link } = event.gatehouse.chain
  return chainHash(key, link.prev, { ...event, gatehouse: { ...event.gatehouse, chain: link } })
}

/** Links events one after the other for one replica, starting after `from` (or at the genesis). */
export function createChain (key: Buffer, replica: string, from: ChainPoint | null) {
  let seq = from?.seq ?? 0
  let prev = from?.hash ?? GENESIS
  return {
    link<E extends Omit<AuditEvent, 'gatehouse'> & { gatehouse: Omit<AuditEvent['gatehouse'], 'chain'> }> (ev: E): AuditEvent {
      const partial = { replica, seq: seq + 1, prev }
      const unhashed = { ...ev, gatehouse: { ...ev.gatehouse, chain: partial } }
      const hash = chainHash(key, prev, unhashed)
      seq += 1
      prev = hash
      return { ...ev, gatehouse: { ...ev.gatehouse, chain: { ...partial, hash } } }
    },
    head: (): ChainPoint => ({ seq, hash: prev })
  }
}

export function isChainLink (c: unknown): c is ChainLink {
  if (c === null || typeof c !== 'object') return false
  const l = c as Record<string, unknown>
  return typeof l.replica === 'string' && REPLICA_ID.test(l.replica) &&
    typeof l.seq === 'number' && Number.isSafeInteger(l.seq) && l.seq >= 1 &&
    typeof l.prev === 'string' && /^[0-9a-f]{64}$/.test(l.prev) &&
    typeof l.hash === 'string' && /^[0-9a-f]{64}$/.test(l.hash)
}
