// One JSON line per event on stdout (or any writable stream, for tests and containers).
import type { Writable } from 'node:stream'
import type { AuditSink, SinkProblem } from './types.js'

export function createStdoutSink (o: { stream: Writable, onProblem: (p: SinkProblem) => void }): AuditSink {
  let healthy = true
  let errors = 0
  let released = 0
  const fail = (err: unknown) => {
    if (!healthy) return
    healthy = false
    errors++
    o.onProblem({ type: 'stdout', error: String((err as NodeJS.ErrnoException)?.code ?? 'EIO') })
  }
  o.stream.on('error', fail)
  return {
    type: 'stdout',
    write (line, event) {
      if (!healthy) return
      released = event.gatehouse.chain.seq
      try { o.stream.write(line + '\n') } catch (err) { fail(err) }
    },
    released: () => released,
    rewrite () { /* nothing is held: every line went out when it was written */ },
    writable: () => healthy && !o.stream.destroyed,
    flush () {
      if (!healthy) return Promise.resolve(false)
      return new Promise((resolve) => {
        // an empty write's callback runs once everything written before it has been handed on
        o.stream.write('', (err) => resolve(!err && healthy))
      })
    },
    async close () { /* the stream belongs to the caller; the error listener stays so a late EPIPE cannot crash */ },
    stats: () => ({ dropped: 0, queueDepth: 0, errors })
  }
}
