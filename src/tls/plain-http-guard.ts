// Plain HTTP sent to the TLS port: answered with a fixed 400 that says to use https (nginx's 497
// idea), before any TLS or HTTP machinery sees the connection. The first byte decides: a TLS
// record starts with 0x16 (handshake), an HTTP request line with an upper-case method letter.
import type { Server as TlsServer } from 'node:tls'
import type { Socket } from 'node:net'

const BODY = 'This port speaks HTTPS: use https:// instead of http://\n'
const REPLY = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n${BODY}`

const looksLikeHttp = (first: number): boolean => first >= 0x41 && first <= 0x5a // 'A'..'Z'

/**
 * Puts itself in front of the TLS server's own connection handling. The first chunk read goes back
 * onto the socket (`unshift`) before the TLS layer takes it over, which reads what is buffered.
 * A connection that sends nothing is closed after `firstByteTimeoutMs`.
 */
export function refusePlainHttp (server: TlsServer, firstByteTimeoutMs: number): void {
  const tlsListeners = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  server.on('connection', (socket: Socket) => {
    const onError = (): void => { socket.destroy() }
    socket.on('error', onError)
    socket.setTimeout(firstByteTimeoutMs, () => socket.destroy())
    socket.once('data', (chunk: Buffer) => {
      socket.pause()
      socket.setTimeout(0)
      if (looksLikeHttp(chunk[0] ?? 0)) {
        socket.end(REPLY)
        return
      }
      socket.removeListener('error', onError)
      socket.unshift(chunk)
      for (const listener of tlsListeners) listener.call(server, socket)
    })
  })
}
