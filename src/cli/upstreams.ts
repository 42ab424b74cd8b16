// `gatehouse upstreams check [--json]`: asks each configured Ollama host once whether it answers,
// which Ollama version it runs and how many models it has. Exit 1 when one does not answer.
import type { GatehouseConfig } from '../config/schema.js'
import { probeHost, readHostModels } from '../fleet/discovery.js'
import { createUpstream } from '../proxy/upstream.js'
import { table, type Io } from './output.js'
import type { CommandHandler } from './types.js'

export interface UpstreamCheck {
  name: string
  url: string
  answers: boolean
  version: string | null
  models: number | null
  error: string | null
}

async function checkUpstreams (config: GatehouseConfig): Promise<UpstreamCheck[]> {
  const u = config.upstream
  const timeoutMs = Math.min(10_000, u.connectTimeoutMs + 5_000)
  return await Promise.all(u.hosts.map(async (h): Promise<UpstreamCheck> => {
    const upstream = createUpstream({
      url: h.url, connectTimeoutMs: u.connectTimeoutMs, headersTimeoutMs: timeoutMs, idleTimeoutMs: timeoutMs
    })
    try {
      const version = await probeHost(upstream, timeoutMs)
      const { models } = await readHostModels(upstream, timeoutMs)
      return { name: h.name, url: h.url, answers: true, version, models: models.length, error: null }
    } catch (err) {
      const e = err as Error & { code?: string }
      return { name: h.name, url: h.url, answers: false, version: null, models: null, error: e.code ?? e.message }
    } finally {
      await upstream.close().catch(() => {})
    }
  }))
}

function render (checks: UpstreamCheck[], io: Io): void {
  io.out(table(checks.map((c) => ({ ...c, answers: c.answers ? 'yes' : 'no' })), ['name', 'url', 'answers', 'version', 'models', 'error']))
}

export const upstreamCommands: Record<string, CommandHandler> = {
  'upstreams check': async (config, args, io) => {
    const checks = await checkUpstreams(config)
    if (args.json) io.out(JSON.stringify({ upstreams: checks }, null, 2))
    else render(checks, io)
    return checks.every((c) => c.answers) ? 0 : 1
  }
}
