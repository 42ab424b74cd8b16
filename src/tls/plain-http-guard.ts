// Plain HTTP sent to the TLS port: answered with a fixed 400 that says to use https (nginx's 497
// idea) instead of a dropped connection. OpenSSL itself recognises an HTTP request line where a TLS
// record should start (ERR_SSL_HTTP_REQUEST: GET, POST, HEAD, PUT); the fixed reply then goes out
// in the clear on the connection's own socket, and nothing else is served. The TLS server keeps its
// native handling of every connection: nothing reads, buffers or re-wraps a socket here.
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import type { Socket } from 'node:net'

const BODY = 'This port speaks HTTPS: use https:// instead of http://\n'
const REPLY = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n${BODY}`

const peer = (s: { remoteAddress?: string, remotePort?: number }): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? 0}`

/** Answers a plaintext HTTP request on `server`'s TLS port with the fixed 400. */
export function refusePlainHttp (server: TlsServer): void {
  // the TCP socket under each TLS connection still being set up, by its peer address
  const pending = new Map<string, Socket>()
  server.on('connection', (socket: Socket) => {
    const key = peer(socket)
    pending.set(key, socket)
    socket.once('close', () => { if (pending.get(key) === socket) pending.delete(key) })
  })
  server.on('secureConnection', (tls: TLSSocket) => { pending.delete(peer(tls)) })
  server.on('tlsClientError', (err: Error & { code?: string }, tls: TLSSocket) => {
    const socket = pending.get(peer(tls))
    if (err.code === 'ERR_SSL_HTTP_REQUEST' && socket !== undefined && !socket.destroyed) socket.end(REPLY)
    else tls.destroy()
  })
}
