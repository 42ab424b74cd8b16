// Key material for the audit trail. config/secrets.ts keeps it in dataDir (mode 0600) or reads it from the environment.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'

export interface AuditKeys { chainKey: Buffer, checkpointKey: KeyObject, checkpointPublicKey: KeyObject }

export function generateAuditKeys (): AuditKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { chainKey: randomBytes(32), checkpointKey: privateKey, checkpointPublicKey: publicKey }
}
