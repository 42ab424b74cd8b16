// The hash chain (pure): hash = HMAC-SHA256(key, prev "\n" canonical(event without chain.hash)).
import { createHmac } from 'node:crypto'
import { canonicalJson, stringifiesCanonically } from '../canonical-json.js'
import { escapeLineBreakers, serializeLine } from './serialize.js'
import type { AuditEvent, ChainLink, Unchained } from './types.js'

export const GENESIS = '0'.repeat(64)
export const REPLICA_ID = /^[A-Za-z0-9._-]{1,64}$/

export interface ChainPoint { seq: number, hash: string }

/** What the HMAC covers: the event with its chain link but without the link's own hash. */
type Hashed = Omit<AuditEvent, 'gatehouse'> & { gatehouse: Unchained['gatehouse'] & { chain: Omit<ChainLink, 'hash'> } }

function chainHash (key: Buffer, prev: string, unhashed: Hashed): string {
  return hashOfCanonical(key, prev, canonicalJson(unhashed))
}

function hashOfCanonical (key: Buffer, prev: string, canonical: string): string {
  return createHmac('sha256', key).update(prev).update('\n').update(canonical).digest('hex')
}

/** Recomputes the hash an event claims; used by the verifier. */
export function expectedHash (key: Buffer, event: AuditEvent): string {
  const { hash: _hash, ...link } = event.gatehouse.chain
  return chainHash(key, link.prev, { ...event, gatehouse: { ...event.gatehouse, chain: link } })
}

export interface LinkedEvent { event: AuditEvent, line: string }

/**
 * The line of a linked event from the canonical text that was hashed: the same text with the
 * link's hash added as the chain object's last member — what serializeLine(event) writes — without
 * serializing the event a second time. `chainText` is the chain object as it stands in `canonical`;
 * inside JSON text a `"` that is not escaped is structure, so the first occurrence of the key and
 * that object is the chain link itself.
 */
function lineOf (canonical: string, chainText: string, hash: string): string | null {
  const at = canonical.indexOf('"chain":' + chainText)
  if (at < 0) return null
  const end = at + 8 + chainText.length - 1
  return escapeLineBreakers(canonical.slice(0, end) + ',"hash":"' + hash + '"' + canonical.slice(end))
}

/** Links events one after the other for one replica, starting after `from` (or at the genesis). */
export function createChain (key: Buffer, replica: string, from: ChainPoint | null) {
  let seq = from?.seq ?? 0
  let prev = from?.hash ?? GENESIS
  const replicaText = JSON.stringify(replica)
  /** the event linked, and its line: canonical text hashed once, the line made from that same text */
  function linkLine (ev: Unchained): LinkedEvent {
    // one object: hashed while its link has no hash yet (canonicalJson skips undefined), then
    // completed. Keys in sorted order (chain first in gatehouse), like buildEvent's: the canonical
    // form is then a single JSON.stringify
    const chain: Omit<ChainLink, 'hash'> & { hash?: string } = { prev, replica, seq: seq + 1 }
    const { attempts, ...rest } = ev.gatehouse
    // `attempts` is the one gatehouse key that sorts before `chain`
    const event = { ...ev, gatehouse: attempts === undefined ? { chain, ...rest } : { attempts, chain, ...rest } }
    const native = stringifiesCanonically(event)
    const canonical = native ? JSON.stringify(event) : canonicalJson(event)
    const hash = hashOfCanonical(key, prev, canonical)
    chain.hash = hash
    const line = (native ? lineOf(canonical, `{"prev":"${prev}","replica":${replicaText},"seq":${seq + 1}}`, hash) : null) ??
      serializeLine(event)
    seq += 1
    prev = hash
    return { event: event as AuditEvent, line }
  }
  return {
    linkLine,
    link: (ev: Unchained): AuditEvent => linkLine(ev).event
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
