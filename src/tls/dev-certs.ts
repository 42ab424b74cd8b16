// Development certificates: a local CA and a server certificate for localhost / 127.0.0.1 / ::1.
// node-forge builds the X.509 structures; Node's crypto makes the keys (faster than forge's RSA).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'

export interface DevCertPaths { caCert: string, caKey: string, cert: string, key: string }

function rsaKeys (): { publicKey: forge.pki.PublicKey, privateKey: forge.pki.PrivateKey, pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem }
}

function serial (): string {
  const b = randomBytes(16)
  b[0] = (b[0] as number) & 0x7f // positive
  return b.toString('hex')
}

function newCert (subjectCn: string, publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = serial()
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: subjectCn }, { name: 'organizationName', value: 'Gatehouse development' }])
  return cert
}

export interface IssuedCert { certPem: string, keyPem: string }

export function createDevCa (): IssuedCert {
  const k = rsaKeys()
  const cert = newCert('Gatehouse Development CA', k.publicKey, 3650)
  cert.setIssuer(cert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  cert.sign(k.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.pem }
}

/** A leaf signed by `ca`: server (SAN hosts) or client (CN = name) certificate. */
export function issueCert (ca: IssuedCert, name: string, usage: 'server' | 'client', hosts: string[] = []): IssuedCert {
  const caCert = forge.pki.certificateFromPem(ca.certPem)
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey
  const k = rsaKeys()
  const cert = newCert(name, k.publicKey, usage === 'server' ? 397 : 365)
  cert.setIssuer(caCert.subject.attributes)
  const altNames = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 7, ip: h } : { type: 2, value: h }))
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : [])
  ])
  cert.sign(caKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.pem }
}

function write (file: string, content: string, secret: boolean): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, content, { mode: secret ? 0o600 : 0o644 })
  if (secret) chmodSync(file, 0o600)
}

/** Writes CA + server cert. Reuses an existing CA in the same folder so clients that trust it keep working. */
export function writeDevCerts (certFile: string, keyFile: string): DevCertPaths {
  const dir = dirname(certFile)
  const paths = { caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: certFile, key: keyFile }
  const ca = existsSync(paths.caCert) && existsSync(paths.caKey)
    ? { certPem: readFileSync(paths.caCert, 'utf8'), keyPem: readFileSync(paths.caKey, 'utf8') }
    : createDevCa()
  write(paths.caCert, ca.certPem, false)
  write(paths.caKey, ca.keyPem, true)
  const server = issueCert(ca, 'localhost', 'server', ['localhost', '127.0.0.1', '::1'])
  write(paths.cert, server.certPem, false)
  write(paths.key, server.keyPem, true)
  return paths
}
