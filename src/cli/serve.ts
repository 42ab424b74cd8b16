// `gatehouse serve`: first-start preparation, then the gateway until SIGTERM/SIGINT.
import type { GatehouseConfig } from '../config/schema.js'
import { createGateway } from '../gateway.js'
import { cliInvocation } from '../config/locate.js'
import { ensureServingCertificate } from './certs.js'
import { assertStartupPaths } from './path-access.js'
import type { Io } from './output.js'

export async function serve (config: GatehouseConfig, io: Io): Promise<number> {
  assertStartupPaths(config)
  ensureServingCertificate(config, io)
  const gateway = await createGateway(config, { logger: { level: config.log.level } })
  await gateway.auth.ensureBootstrapAdmin((line) => io.err(line), cliInvocation())
  await gateway.app.listen({ host: config.listen.host, port: config.listen.port,
    listenTextResolver: (a) => `listening on ${config.tls.enabled ? a.replace(/^http:/, 'https:') : a}` })
  const address = gateway.app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.listen.port
  io.err(`gatehouse listening on ${config.tls.enabled ? 'https' : 'http'}://${config.listen.host}:${port} → ${config.upstream.hosts.map((h) => h.url).join(', ')}`)

  return await new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      io.err(`gatehouse: ${signal} received, draining`)
      gateway.shutdown().then(() => resolve(0),
        (err: unknown) => { io.err(`gatehouse: shutdown failed: ${(err as Error).message}`); resolve(1) })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
