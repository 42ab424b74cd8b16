// A syslog receiver for the soak: RFC 6587 octet-counted frames over TCP on a fixed port, one JSON
// audit event per message. `stop()` resets every connection and stops listening (what the gateway
// sees when its SIEM goes away); `start()` listens again on the same port. It keeps the chain points
// it received (`replica:seq`) and when the first frame arrived after each start.
import { createServer } from 'node:net'

export function createSyslogReceiver ({ port }) {
  const points = new Set()
  const sockets = new Set()
  let server = null
  let frames = 0
  let startedAt = 0
  let firstFrameAfterStart = null

  function onFrame (msg) {
    frames++
    if (firstFrameAfterStart === null) firstFrameAfterStart = Date.now() - startedAt
    const at = msg.indexOf('{"@timestamp"')
    if (at < 0) return
    try {
      const { replica, seq } = JSON.parse(msg.slice(at)).gatehouse.chain
      points.add(`${replica}:${seq}`)
    } catch { /* counted as a frame only */ }
  }

  function onConnection (s) {
    sockets.add(s)
    let buf = Buffer.alloc(0)
    s.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      for (;;) {
        const sp = buf.indexOf(0x20)
        if (sp < 0) break
        const len = Number(buf.subarray(0, sp).toString())
        if (buf.length < sp + 1 + len) break
        onFrame(buf.subarray(sp + 1, sp + 1 + len).toString())
        buf = buf.subarray(sp + 1 + len)
      }
    })
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }

  return {
    port,
    points,
    frames: () => frames,
    /** ms from the last start() to the first frame received after it; null while none came */
    firstFrameAfterStart: () => firstFrameAfterStart,
    async start () {
      server = createServer(onConnection)
      await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
      startedAt = Date.now()
      firstFrameAfterStart = null
    },
    async stop () {
      const s = server
      server = null
      for (const sock of sockets) sock.destroy()
      if (s) await new Promise((resolve) => s.close(resolve))
    }
  }
}
