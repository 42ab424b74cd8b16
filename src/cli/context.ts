// What CLI commands that change accounts need: the store, shared revocation state, the audit log
// and the one UserAdmin implementation — the same services the gateway uses, without HTTP.
import { hostname } from 'node:os'
import type { GatehouseConfig } from '../config/schema.js'
import { loadSecrets, redisUrlWithPassword } from '../config/secrets.js'
import { createStore } from '../store/index.js'
import { createSharedState } from '../shared-state/index.js'
import { createAuditLog } from '../audit/index.js'
import { createAuth, type Auth } from '../auth/index.js'
import { systemClock } from '../clock.js'

export interface CliContext { auth: Auth, close: () => Promise<void> }

export async function openCliContext (config: GatehouseConfig): Promise<CliContext> {
  const secrets = loadSecrets(config)
  const store = await createStore(config.store.url)
  const sharedState = createSharedState({ redisUrl: redisUrlWithPassword(config.redis.url, secrets.redisPassword), store, prefix: config.redis.keyPrefix, clock: systemClock })
  // the CLI keeps its own chain, told apart from the server's by its replica id
  const replicaId = `${(config.audit.replicaId ?? hostname()).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 56)}-cli`
  const audit = await createAuditLog({
    config: config.audit, chainKey: secrets.auditChainKey, checkpointKey: secrets.auditCheckpoint.privateKey, replicaId, clock: systemClock
  })
  const auth = createAuth({ config, store, sharedState, signingKey: secrets.jwt, totpKey: secrets.totpKey, clock: systemClock, audit: (e) => audit.emit(e) })
  return {
    auth,
    async close () {
      await audit.close()
      await sharedState.close()
      await store.close()
    }
  }
}
