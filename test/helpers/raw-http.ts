// Sends bytes exactly as written over TLS (or plain TCP) and returns the raw reply: for request
// shapes that no well-behaved client library would produce (smuggling, path tricks, absolute-form).
import { connect as tlsConnect } from 'node:tls'
import { connect as netConnect } from 'node:net'

export interface RawReply { status: number, head: string, body: string, raw: string }

export function rawRequest (port: number, bytes: string | Buffer, opts: { tls?: boolean, ca?: Buffer, timeoutMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = opts.tls === false
      ? netConnect({ port, host: '127.0.0.1' })
      : tlsConnect({ port, host: '127.0.0.1', ca: opts.ca, servername: 'localhost' })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), opts.timeoutMs ?? 3000)
    socket.once(opts.tls === false ? 'connect' : 'secureConnect', () => socket.write(bytes))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (err) => { if (chunks.length === 0) { clearTimeout(timer); reject(err) } })
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('latin1')
      const [head = '', ...rest] = raw.split('\r\n\r\n')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      resolve({ status, head, body: rest.join('\r\n\r\n'), raw })
    })
  })
}
