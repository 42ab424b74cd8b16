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

export interface OpenSocket {
  socket: import('node:net').Socket
  /** resolves once the TLS handshake (or TCP connect) is done; rejects when the server drops the connection first */
  ready: Promise<void>
  /** resolves when the connection is closed, with everything received */
  closed: Promise<RawReply>
  /** true once the connection is closed */
  isClosed: () => boolean
}

/** A connection the test drives byte by byte (slow bodies, connection caps). */
export function openRaw (port: number, opts: { tls?: boolean, ca?: Buffer } = {}): OpenSocket {
  const socket = opts.tls === false
    ? netConnect({ port, host: '127.0.0.1' })
    : tlsConnect({ port, host: '127.0.0.1', ca: opts.ca, servername: 'localhost' })
  const chunks: Buffer[] = []
  let closed = false
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => {})
  const ready = new Promise<void>((resolve, reject) => {
    socket.once(opts.tls === false ? 'connect' : 'secureConnect', () => resolve())
    socket.once('close', () => reject(new Error('closed before ready')))
  })
  ready.catch(() => {})
  const done = new Promise<RawReply>((resolve) => {
    socket.once('close', () => {
      closed = true
      const raw = Buffer.concat(chunks).toString('latin1')
      const [head = '', ...rest] = raw.split('\r\n\r\n')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      resolve({ status, head, body: rest.join('\r\n\r\n'), raw })
    })
  })
  return { socket, ready, closed: done, isClosed: () => closed }
}

/** Polls `condition` until it holds or `timeoutMs` passes; the caller asserts on the result. */
export async function waitFor (condition: () => boolean, timeoutMs = 5000, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (condition()) return true
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return condition()
}
