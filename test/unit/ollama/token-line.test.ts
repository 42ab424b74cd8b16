// Ollama's token line read without a JSON parser: whatever it reads must be exactly what JSON.parse
// reads, and anything not in the fixed shape must be left to JSON.parse.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { readTokenLine, type TokenLine } from '../../../src/ollama/token-line.js'

type Kind = 'generate' | 'chat'
const generateLine = (model: string, createdAt: string, text: string): string =>
  JSON.stringify({ model, created_at: createdAt, response: text, done: false })
const chatLine = (model: string, createdAt: string, role: string, text: string): string =>
  JSON.stringify({ model, created_at: createdAt, message: { role, content: text }, done: false })
/** Go's encoder escapes <, > and & in strings; JSON.stringify does not */
const goEscaped = (line: string): string => line.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)

/** What JSON.parse makes of a line, as a TokenLine, when the parsed line has the token line's keys, in order, and nothing else. */
function parsedTokenLine (kind: Kind, line: string): TokenLine | null {
  let v: unknown
  try { v = JSON.parse(line) } catch { return null }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, unknown>
  const keys = Object.keys(o).join(',')
  if (o.done !== false || typeof o.model !== 'string' || typeof o.created_at !== 'string') return null
  if (kind === 'generate') {
    return keys === 'model,created_at,response,done' && typeof o.response === 'string'
      ? { model: o.model, createdAt: o.created_at, role: null, text: o.response } : null
  }
  const m = o.message as Record<string, unknown> | null
  if (keys !== 'model,created_at,message,done' || typeof m !== 'object' || m === null || Object.keys(m).join(',') !== 'role,content') return null
  return typeof m.role === 'string' && typeof m.content === 'string' ? { model: o.model, createdAt: o.created_at, role: m.role, text: m.content } : null
}

const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', ' the', '\n', '"', '\\', '<b>&', '\u2028', '\ud83d\ude42', '\ud800'))

describe('readTokenLine', () => {
  it('reads every token line Ollama can write, exactly as JSON.parse does', () => {
    fc.assert(fc.property(text, text, text, text, fc.boolean(), (model, createdAt, role, t, go) => {
      const g = generateLine(model, createdAt, t)
      const c = chatLine(model, createdAt, role, t)
      for (const [kind, line] of [['generate', go ? goEscaped(g) : g], ['chat', go ? goEscaped(c) : c]] as Array<[Kind, string]>) {
        expect(readTokenLine(kind, line)).toEqual(parsedTokenLine(kind, line))
        expect(readTokenLine(kind, line)).not.toBeNull()
      }
    }), { numRuns: 2000 })
  })

  it('a changed line is either left to JSON.parse or read exactly as JSON.parse reads it', () => {
    const seed = fc.tuple(text, text, text, text).map(([m, c, r, t]) => [generateLine(m, c, t), chatLine(m, c, r, t)] as const)
    const edit = fc.tuple(fc.nat(), fc.constantFrom('', ' ', '"', '\\', '\u0001', '}', '{', ',', ':', 'x', 'true', '\\"', '\\u0041', 'null'), fc.nat(3))
    fc.assert(fc.property(seed, fc.array(edit, { minLength: 1, maxLength: 3 }), ([g, c], edits) => {
      for (const [kind, original] of [['generate', g], ['chat', c]] as Array<[Kind, string]>) {
        let line = original
        for (const [at, insert, remove] of edits) {
          const i = at % (line.length + 1)
          line = line.slice(0, i) + insert + line.slice(i + remove)
        }
        const read = readTokenLine(kind, line)
        if (read !== null) expect(read).toEqual(parsedTokenLine(kind, line))
      }
    }), { numRuns: 5000 })
  })

  it('leaves every other shape to JSON.parse', () => {
    const ok = chatLine('m', 't', 'assistant', 'hi')
    expect(readTokenLine('chat', ok)).toEqual({ model: 'm', createdAt: 't', role: 'assistant', text: 'hi' })
    for (const line of [
      ok.replace('{', '{ '), // whitespace
      ok.replace('"done":false', '"done":true'), // the closing line carries counts: parsed
      ok.replace('"done":false', '"done":false,"eval_count":3'),
      ok.replace('"content":"hi"', '"content":"hi","thinking":"x"'),
      ok.replace('"content":"hi"', '"content":"h\u0001i"'), // a raw control character JSON.parse refuses
      ok.replace('"content":"hi"', '"content":"h\\qi"'), // an escape JSON.parse refuses
      ok + ' ',
      '{"error":"boom"}'
    ]) expect(readTokenLine('chat', line), line).toBeNull()
    // the other route's shape
    expect(readTokenLine('generate', ok)).toBeNull()
    expect(readTokenLine('chat', generateLine('m', 't', 'hi'))).toBeNull()
  })
})
