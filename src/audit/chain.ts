// The hash chain (pure): hash = HMAC-SHA256(key, prev "\n" canonical(event without chain.hash)).
import { createHmac } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'
import type { AuditEvent, ChainLink, Unchained } from './types.js'

export const GENESIS = '0'.repeat(64)
export const REPLICA_ID = /^[A-Za-z0-9._-]{1,64}$/

export interface ChainPoint { seq: number, hash: string }

/** What the HMAC covers: the event with its chain link but without the link's own hash. */
type Hashed = Omit<AuditEvent, 'gatehouse'> & { gatehouse: Unchained['gatehouse'] & { chain: Omit<ChainLink, 'hash'> } }

export function chainHash (key: Buffer, prev: string, unhashed: Hashed): string {
  return createHmac('sha256', key).update(prev).update('\n').update(canonicalJson(unhashed)).digest('hex')
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
    link (ev: Unchained): AuditEvent {
      // one object: hashed while its link has no hash yet (canonicalJson skips undefined), then
      // completed. Keys in sorted order (chain first in gatehouse), like buildEvent's: the canonical
      // form is then a single JSON.stringify
      const chain: Omit<ChainLink, 'hash'> & { hash?: string } = { prev, replica, seq: seq + 1 }
      const { attempts, ...rest } = ev.gatehouse
      // `attempts` is the one gatehouse key that sorts before `chain`
      const event = { ...ev, gatehouse: attempts === undefined ? { chain, ...rest } : { attempts, chain, ...rest } }
      const hash = chainHash(key, prev, event)
      chain.hash = hash
      seq += 1
      prev = hash
      return event as AuditEvent
    }
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
