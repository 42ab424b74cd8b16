// Fresh audit key material (chain HMAC key and checkpoint signing pair) for tests.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'

export interface AuditKeys { chainKey: Buffer, checkpointKey: KeyObject, checkpointPublicKey: KeyObject }

export function generateAuditKeys (): AuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { chainKey: randomBytes(32), checkpointKey: privateKey, checkpointPublicKey: publicKey }
}
