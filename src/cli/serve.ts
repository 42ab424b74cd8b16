// `gatehouse serve`: first-start preparation, then the gateway until SIGTERM/SIGINT; SIGHUP reloads
// the config and TLS files (reload.ts). The signal handlers are installed before anything else, so
// a SIGTERM that arrives while starting or right after the "listening" line still drains.
import type { GatehouseConfig } from '../config/schema.js'
import { createGateway, type Gateway } from '../gateway.js'
import { cliInvocation } from '../config/locate.js'
import { ensureServingCertificate } from './certs.js'
import { assertStartupPaths } from './path-access.js'
import { reload } from './reload.js'
import type { Io } from './output.js'

export async function serve (config: GatehouseConfig, io: Io, load: () => GatehouseConfig = () => config): Promise<number> {
  let gateway: Gateway | null = null
  let running = config
  let stopSignal: string | null = null
  let wake: () => void = () => {}
  const stopRequested = new Promise<void>((resolve) => { wake = resolve })
  const onStop = (signal: string) => () => {
    if (stopSignal !== null) return
    stopSignal = signal
    // a second SIGTERM/SIGINT while draining gets the default action: stop at once
    process.off('SIGTERM', onTerm)
    process.off('SIGINT', onInt)
    wake()
  }
  const onTerm: () => void = onStop('SIGTERM')
  const onInt: () => void = onStop('SIGINT')
  const onHup = () => {
    if (gateway === null || stopSignal !== null) { io.err('gatehouse: SIGHUP ignored while starting or stopping'); return }
    running = reload(gateway, running, load, io).inEffect
  }
  process.on('SIGTERM', onTerm)
  process.on('SIGINT', onInt)
  process.on('SIGHUP', onHup)
  const removeHandlers = () => {
    process.off('SIGTERM', onTerm)
    process.off('SIGINT', onInt)
    process.off('SIGHUP', onHup)
  }

  try {
    assertStartupPaths(config)
    ensureServingCertificate(config, io)
    gateway = await createGateway(config, { logger: { level: config.log.level } })
    await gateway.auth.ensureBootstrapAdmin((line) => io.err(line), cliInvocation())
    if (stopSignal === null) {
      await gateway.app.listen({ host: config.listen.host, port: config.listen.port,
        listenTextResolver: (a) => `listening on ${config.tls.enabled ? a.replace(/^http:/, 'https:') : a}` })
      const address = gateway.app.server.address()
      const port = typeof address === 'object' && address ? address.port : config.listen.port
      io.err(`gatehouse listening on ${config.tls.enabled ? 'https' : 'http'}://${config.listen.host}:${port} → ` +
        config.upstream.hosts.map((h) => h.url).join(', '))
    }
  } catch (err) {
    removeHandlers()
    if (gateway !== null) await gateway.shutdown().catch(() => {})
    throw err
  }

  await stopRequested
  io.err(`gatehouse: ${stopSignal ?? 'signal'} received, draining`)
  try {
    await gateway.shutdown()
    return 0
  } catch (err) {
    io.err(`gatehouse: shutdown failed: ${(err as Error).message}`)
    return 1
  } finally {
    removeHandlers()
  }
}
