// A password typed at a terminal is read in raw mode and never echoed: the terminal sees the prompt
// and a newline, nothing of what was typed.
import { describe, expect, it } from 'vitest'
import { EventEmitter } from 'node:events'
import { readHiddenLine, type TerminalInput } from '../../../src/cli/prompt.js'

function fakeTerminal () {
  const events = new EventEmitter()
  const modes: boolean[] = []
  const input: TerminalInput & { type: (s: string) => void } = {
    isTTY: true,
    setRawMode: (raw: boolean) => { modes.push(raw) },
    on: (e, l) => events.on(e, l),
    removeListener: (e, l) => events.removeListener(e, l),
    resume: () => {},
    pause: () => {},
    type: (s: string) => { events.emit('data', Buffer.from(s)) }
  }
  let shown = ''
  return { input, modes, output: { write: (s: string) => { shown += s; return true } }, shown: () => shown }
}

describe('readHiddenLine', () => {
  it('returns the typed line, shows only the prompt, and leaves raw mode', async () => {
    const t = fakeTerminal()
    const line = readHiddenLine(t.input, t.output, 'New password: ')
    t.input.type('violet-har')
    t.input.type('bour\r')
    expect(await line).toBe('violet-harbour')
    expect(t.shown()).toBe('New password: \n')
    expect(t.modes).toEqual([true, false])
  })

  it('Backspace deletes the last character, whole code points included', async () => {
    const t = fakeTerminal()
    const line = readHiddenLine(t.input, t.output, '> ')
    t.input.type('abc\u007f\u007fxé\u007fy😀\r')
    expect(await line).toBe('axy😀')
  })

  it('arrow keys are not part of the password', async () => {
    const t = fakeTerminal()
    const line = readHiddenLine(t.input, t.output, '> ')
    t.input.type('ab')
    t.input.type('\u001b[D')
    t.input.type('c\n')
    expect(await line).toBe('abc')
  })

  it('Ctrl-C gives up with a usage error and leaves raw mode', async () => {
    const t = fakeTerminal()
    const line = readHiddenLine(t.input, t.output, '> ')
    t.input.type('secret\u0003')
    await expect(line).rejects.toMatchObject({ code: 'GH_ERR_USAGE', message: 'interrupted' })
    expect(t.modes).toEqual([true, false])
    expect(t.shown()).not.toContain('secret')
  })
})
