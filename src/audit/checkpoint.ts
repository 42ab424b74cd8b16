// Signed checkpoints: Ed25519 over the canonical form of { type, replica, seq, hash, time, key }
// plus `rotation: true` and the file's new name on the one written as a file is rotated (it vouches
// that `seq` was the chain's last event in that file) or `retention: true` and the first remaining
// file's name on the one the retention sweep writes right before deleting files (it vouches that
// `seq` was the chain's last event in them). Only these two kinds may anchor a chain whose earlier
// events are gone.
import { createPublicKey, createHash, sign, verify, type KeyObject } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'
import { serializeLine } from './serialize.js'
import { REPLICA_ID } from './chain.js'

/** a file name without a folder */
const FILE_NAME = /^[^/\\\0]{1,255}$/

export interface Checkpoint {
  type: 'checkpoint'
  replica: string
  seq: number
  hash: string
  time: string
  key: string
  /** present (true) only on the checkpoint written when a file was rotated after `seq` */
  rotation?: true
  /**
   * with `rotation`: the name (no folder) the file was set aside under. Only the file right after it
   * in rotation order may start with the chain's next event; absent from checkpoints written before
   * it was signed
   */
  file?: string
  /** present (true) only on the checkpoint the retention sweep wrote: `seq` was the chain's last event in the files it deleted */
  retention?: true
  /**
   * with `retention`: the name (no folder) of the first file that remained. The files before it were
   * the ones deleted, so none may be given with it; absent from checkpoints written before it was signed
   */
  remaining?: string
}
export interface SignedCheckpoint extends Checkpoint { sig: string }

/** Short fingerprint of the public key, so an operator can tell which key signed a checkpoint. */
export function keyFingerprint (key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)
}

export function signCheckpoint (privateKey: KeyObject,
  c: Omit<Checkpoint, 'type' | 'key' | 'rotation' | 'retention'> & { rotation?: boolean, retention?: boolean },
  fingerprint = keyFingerprint(privateKey)): string {
  const body: Checkpoint = { type: 'checkpoint', replica: c.replica, seq: c.seq, hash: c.hash, time: c.time, key: fingerprint }
  if (c.rotation === true) body.rotation = true
  if (c.rotation === true && c.file !== undefined) body.file = c.file
  if (c.retention === true) body.retention = true
  if (c.retention === true && c.remaining !== undefined) body.remaining = c.remaining
  const sig = sign(null, Buffer.from(canonicalJson(body)), privateKey).toString('base64')
  return serializeLine({ ...body, sig })
}

export type CheckpointCheck = { ok: true, checkpoint: SignedCheckpoint } | { ok: false, reason: string }

export function parseCheckpoint (line: string, publicKey: KeyObject): CheckpointCheck {
  let v: unknown
  try { v = JSON.parse(line) } catch { return { ok: false, reason: 'checkpoint is not JSON' } }
  const c = v as Partial<SignedCheckpoint> | null
  if (c === null || typeof c !== 'object' || c.type !== 'checkpoint' || typeof c.replica !== 'string' ||
    !REPLICA_ID.test(c.replica) || typeof c.seq !== 'number' || !Number.isSafeInteger(c.seq) || c.seq < 1 ||
    typeof c.hash !== 'string' || !/^[0-9a-f]{64}$/.test(c.hash) || typeof c.time !== 'string' ||
    typeof c.key !== 'string' || typeof c.sig !== 'string' || (c.rotation !== undefined && c.rotation !== true) ||
    (c.retention !== undefined && c.retention !== true) ||
    (c.file !== undefined && (c.rotation !== true || typeof c.file !== 'string' || !FILE_NAME.test(c.file))) ||
    (c.remaining !== undefined && (c.retention !== true || typeof c.remaining !== 'string' || !FILE_NAME.test(c.remaining)))) {
    return { ok: false, reason: 'checkpoint is malformed' }
  }
  const { sig, ...body } = c as SignedCheckpoint
  const good = verify(null, Buffer.from(canonicalJson(body)), publicKey, Buffer.from(sig, 'base64'))
  return good ? { ok: true, checkpoint: c as SignedCheckpoint } : { ok: false, reason: 'forged checkpoint: signature does not verify' }
}
