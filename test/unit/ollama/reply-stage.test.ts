import { describe, expect, it } from 'vitest'
import { chainStages, NO_BYTES, type ReplyStage } from '../../../src/ollama/reply-stage.js'

/** A stage that tags what passes (`name(bytes)`), holds nothing, and closes the reply with an error frame on `refuse`. */
function tagging (name: string, log: string[], refuse = '\u0000'): ReplyStage {
  let closed = false
  return {
    get closed () { return closed },
    push (chunk) {
      const text = chunk.toString()
      log.push(`${name}.push(${text})`)
      if (text.includes(refuse)) { closed = true; return Buffer.from(`${name}:error`) }
      return text === '' ? NO_BYTES : Buffer.from(`${name}(${text})`)
    },
    end () {
      log.push(`${name}.end`)
      return Buffer.from(`${name}:end`)
    }
  }
}

describe('chainStages', () => {
  it('passes each chunk through the stages in order, and ends each one in turn, its last bytes through the rest', () => {
    const log: string[] = []
    const chain = chainStages([tagging('a', log), tagging('b', log)])
    expect(chain.push(Buffer.from('x')).toString()).toBe('b(a(x))')
    expect(chain.end().toString()).toBe('b(a:end)b:end')
    expect(log).toEqual(['a.push(x)', 'b.push(a(x))', 'a.end', 'b.push(a:end)', 'b.end'])
    expect(chain.closed).toBe(true)
    expect(chain.push(Buffer.from('y')).length).toBe(0)
  })

  it('when a stage closes the reply, its last bytes pass the stages after it, which are ended; the stages before are not', () => {
    const log: string[] = []
    const chain = chainStages([tagging('a', log), tagging('b', log, 'stop'), tagging('c', log)])
    expect(chain.push(Buffer.from('go')).toString()).toBe('c(b(a(go)))')
    expect(chain.push(Buffer.from('stop')).toString()).toBe('c(b:error)c:end')
    expect(chain.closed).toBe(true)
    expect(log.slice(3)).toEqual(['a.push(stop)', 'b.push(a(stop))', 'c.push(b:error)', 'c.end'])
    // nothing more goes in or comes out, not even at the end
    expect(chain.push(Buffer.from('z')).length).toBe(0)
    expect(chain.end().length).toBe(0)
    expect(log).toHaveLength(7)
  })

  it('one stage is used as it is', () => {
    const only = tagging('a', [])
    expect(chainStages([only])).toBe(only)
  })
})
