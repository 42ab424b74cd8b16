// GET /console/: the web console's files, built by `npm run build` (esbuild) into dist/console/assets.
// Static and public (no data in them): the data comes from /auth/* and /admin/* with the session
// cookie. Every answer under /console carries a strict CSP and the no-sniff / no-referrer headers.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { extname, join } from 'node:path'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
})

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png'
}

/** where the built files are: next to the compiled module, or (running from sources) in dist/ */
export function consoleAssetsDir (): string | null {
  const candidates = [join(import.meta.dirname, 'assets'), join(import.meta.dirname, '..', '..', 'dist', 'console', 'assets')]
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null
}

function loadAssets (dir: string | null): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  if (dir === null) return files
  for (const name of readdirSync(dir)) if (TYPES[extname(name)] !== undefined) files.set(name, readFileSync(join(dir, name)))
  return files
}

export function consoleRoutes (options: { assetsDir?: string | null } = {}): FastifyPluginAsync {
  const files = loadAssets(options.assetsDir === undefined ? consoleAssetsDir() : options.assetsDir)
  return async function consolePlugin (app) {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(CONSOLE_HEADERS)
      return payload
    })
    const send = (reply: FastifyReply, name: string) => {
      const body = files.get(name)
      if (body === undefined) {
        return reply.code(files.size === 0 ? 503 : 404).type('text/plain; charset=utf-8')
          .send(files.size === 0 ? 'the console is not built (npm run build)' : 'not found')
      }
      // index.html names its assets without a version, so nothing may be cached for long
      return reply.type(TYPES[extname(name)] as string).header('cache-control', 'no-cache').send(body)
    }
    app.get('/console', async (_request, reply) => reply.redirect('/console/', 308))
    app.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
      const name = request.params['*']
      if (name === '') return send(reply, 'index.html')
      return send(reply, /^[A-Za-z0-9._-]+$/.test(name) && !name.startsWith('.') ? name : '')
    })
  }
}
