// A password typed at a terminal: the prompt goes to stderr, the keys are read in raw mode and
// never echoed. Enter ends the line, Backspace deletes, Ctrl-C gives up, Ctrl-D ends it.
import type { Writable } from 'node:stream'
import { errors } from '../errors.js'

/** What reading a hidden line needs of a terminal: process.stdin is one. */
export interface TerminalInput {
  isTTY?: boolean
  setRawMode?: (raw: boolean) => unknown
  on: (event: 'data', listener: (chunk: Buffer | string) => void) => unknown
  removeListener: (event: 'data', listener: (chunk: Buffer | string) => void) => unknown
  resume: () => unknown
  pause: () => unknown
}

export function readHiddenLine (input: TerminalInput, output: Pick<Writable, 'write'>, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = ''
    const finish = (err: Error | null) => {
      input.removeListener('data', onData)
      input.setRawMode?.(false)
      input.pause()
      output.write('\n')
      if (err) reject(err)
      else resolve(line)
    }
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8')
      if (text.startsWith('\u001b')) return // arrow and function keys: not part of a password
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return finish(null)
        if (ch === '\u0003') return finish(new errors.USAGE('interrupted'))
        if (ch === '\u0004') return finish(line === '' ? new errors.USAGE('no password given') : null)
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('')
        else if (ch >= ' ') line += ch
      }
    }
    output.write(prompt)
    input.setRawMode?.(true)
    input.on('data', onData)
    input.resume()
  })
}
