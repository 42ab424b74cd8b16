// Secrets never live in the YAML: each comes from an env var, or a file named in the config, or is
// generated into dataDir on first start (dir 0700, files 0600). Reading the environment happens here only.
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import type { GatehouseConfig } from './schema.js'
import { ConfigError } from '../errors.js'

export interface SigningKey { privateKey: KeyObject, publicKey: KeyObject, kid: string }

export interface Secrets {
  jwt: SigningKey
  /** AES-256-GCM key for TOTP secrets at rest */
  totpKey: Buffer
  /** HMAC key for masking tokens */
  maskingKey: Buffer
  /** HMAC key for the audit hash chain */
  auditChainKey: Buffer
  /** Ed25519 key that signs audit checkpoints */
  auditCheckpoint: SigningKey
  /** Redis AUTH password, from GATEHOUSE_REDIS_PASSWORD (never from the YAML) */
  redisPassword: string | null
  /** OpenID Connect client secret: GATEHOUSE_OIDC_CLIENT_SECRET, else auth.oidc.clientSecretFile; null for a public client */
  oidcClientSecret: string | null
}

function oidcClientSecret (config: GatehouseConfig, env: NodeJS.ProcessEnv): string | null {
  const fromEnv = env.GATEHOUSE_OIDC_CLIENT_SECRET
  if (fromEnv) return fromEnv
  const file = config.auth.oidc.clientSecretFile
  if (file === null) return null
  if (!existsSync(file)) throw new ConfigError([`auth.oidc.clientSecretFile: ${file} not found`])
  const secret = readFileSync(file, 'utf8').trim()
  if (secret.length === 0) throw new ConfigError([`auth.oidc.clientSecretFile: ${file} is empty`])
  return secret
}

function ensureDataDir (dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
}

/**
 * Creates a secret file unless it exists, atomically: the content is written to a private file of
 * its own first, then linked into place. Two replicas starting at once on one dataDir thus never
 * read a file half written, and the one that links second uses the first one's secret instead of
 * failing to start. (Where the file system has no hard links, the file is created in place.)
 */
export function createSecretFile (file: string, content: () => string | Buffer): void {
  if (existsSync(file)) return
  const own = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.new`
  writeFileSync(own, content(), { mode: 0o600, flag: 'wx' })
  chmodSync(own, 0o600)
  try {
    linkSync(own, file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') {
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
      try { writeFileSync(file, readFileSync(own), { mode: 0o600, flag: 'wx' }) } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
    }
  } finally {
    unlinkSync(own)
  }
}

function symmetricKey (name: string, envVar: string, dataDir: string, env: NodeJS.ProcessEnv): Buffer {
  const fromEnv = env[envVar]
  if (fromEnv) {
    const key = /^[0-9a-f]{64}$/i.test(fromEnv) ? Buffer.from(fromEnv, 'hex') : Buffer.from(fromEnv, 'base64')
    if (key.length !== 32) throw new ConfigError([`${envVar}: must be 32 bytes, as 64 hex digits or base64`])
    return key
  }
  const file = join(dataDir, `${name}.key`)
  createSecretFile(file, () => randomBytes(32).toString('base64') + '\n')
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  if (key.length !== 32) throw new ConfigError([`${file}: must hold 32 base64-encoded bytes`])
  return key
}

function kidOf (publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16)
}

function signingKey (file: string, generate: boolean): SigningKey {
  if (!existsSync(file)) {
    if (!generate) throw new ConfigError([`${file}: signing key file not found`])
    createSecretFile(file, () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
  }
  const privateKey = createPrivateKey(readFileSync(file))
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new ConfigError([`${file}: must be an Ed25519 private key (PKCS#8 PEM)`])
  const publicKey = createPublicKey(privateKey)
  return { privateKey, publicKey, kid: kidOf(publicKey) }
}

export function loadSecrets (config: GatehouseConfig, env: NodeJS.ProcessEnv = process.env): Secrets {
  ensureDataDir(config.dataDir)
  const d = config.dataDir
  return {
    jwt: signingKey(config.auth.jwt.signingKeyFile ?? join(d, 'jwt-signing-key.pem'), config.auth.jwt.signingKeyFile === null),
    totpKey: symmetricKey('totp-encryption', 'GATEHOUSE_TOTP_KEY', d, env),
    maskingKey: symmetricKey('masking-hmac', 'GATEHOUSE_MASKING_KEY', d, env),
    auditChainKey: symmetricKey('audit-chain-hmac', 'GATEHOUSE_AUDIT_KEY', d, env),
    auditCheckpoint: signingKey(join(d, 'audit-checkpoint-key.pem'), true),
    redisPassword: env.GATEHOUSE_REDIS_PASSWORD ?? null,
    oidcClientSecret: config.auth.oidc.enabled ? oidcClientSecret(config, env) : null
  }
}

/** Public half only, for `audit verify` on a machine that holds the log but should not sign. */
export function auditCheckpointPublicKey (config: GatehouseConfig): KeyObject {
  return createPublicKey(createPrivateKey(readFileSync(join(config.dataDir, 'audit-checkpoint-key.pem'))))
}

/**
 * The keys `audit verify` needs, read without creating anything: verifying with freshly generated
 * keys would only report every line as modified.
 */
export function readAuditVerifyKeys (
  config: GatehouseConfig, env: NodeJS.ProcessEnv = process.env
): { chainKey: Buffer, checkpointPublicKey: KeyObject } {
  const keyFile = join(config.dataDir, 'audit-chain-hmac.key')
  const cpFile = join(config.dataDir, 'audit-checkpoint-key.pem')
  const problems: string[] = []
  if (!env.GATEHOUSE_AUDIT_KEY && !existsSync(keyFile)) problems.push(`audit chain key: neither GATEHOUSE_AUDIT_KEY nor ${keyFile} exists`)
  if (!existsSync(cpFile)) problems.push(`audit checkpoint key: ${cpFile} does not exist`)
  if (problems.length > 0) throw new ConfigError(problems)
  return { chainKey: symmetricKey('audit-chain-hmac', 'GATEHOUSE_AUDIT_KEY', config.dataDir, env),
    checkpointPublicKey: auditCheckpointPublicKey(config) }
}

/** redis.url with the password from the environment filled in, for the client only (never logged). */
export function redisUrlWithPassword (url: string | null, password: string | null): string | null {
  if (url === null || password === null) return url
  const u = new URL(url)
  u.password = password
  return u.toString()
}
