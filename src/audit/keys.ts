// Key material for the audit trail. The lead's start-up code stores these in data/ (mode 0600).
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'

export interface AuditKeys { chainKey: Buffer, checkpointKey: KeyObject, checkpointPublicKey: KeyObject }

export function generateAuditKeys (): AuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { chainKey: randomBytes(32), checkpointKey: privateKey, checkpointPublicKey: publicKey }
}
