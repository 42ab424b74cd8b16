// Ollama's token lines are rewritten without a JSON parse (ollama/token-line.ts): the masking
// stage's output, its counts and its usage must be exactly what the parsed path gives. The same
// lines with one space inside the object (equal JSON, a shape the fast path leaves alone) take
// the parsed path.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { cutBytes, engine, newObs, runStage, SEEDS } from './helpers.js'

const e = engine()
type Kind = 'generate' | 'chat'
const tokenLine = (kind: Kind, text: string, model: string): string => JSON.stringify(kind === 'generate'
  ? { model, created_at: '2025-01-01T00:00:00.123Z', response: text, done: false }
  : { model, created_at: '2025-01-01T00:00:00.123Z', message: { role: 'assistant', content: text }, done: false })
const closing = (kind: Kind): string => JSON.stringify(kind === 'generate'
  ? { model: 'llama3.2', created_at: '2025-01-01T00:00:01Z', response: '', done: true, eval_count: 4, prompt_eval_count: 3 }
  : { model: 'llama3.2', created_at: '2025-01-01T00:00:01Z', message: { role: 'assistant', content: '' }, done: true, eval_count: 4, prompt_eval_count: 3 })
/** the same JSON value, in a shape only the parser reads */
const spaced = (line: string): string => '{ ' + line.slice(1)

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z ,.<>&"\\\n]{1,8}$/) },
  { weight: 2, arbitrary: fc.constantFrom(...SEEDS).chain((s) => fc.nat(s.length).map((i) => [s.slice(0, i), s.slice(i)])).map(([a, b]) => `${a}|${b}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) })

describe('the token-line fast path', () => {
  test('gives the parsed path\'s output, counts and usage for every stream and chunking', () => {
    fc.assert(fc.property(fc.constantFrom<Kind>('generate', 'chat'), fc.array(piece, { minLength: 1, maxLength: 16 }),
      fc.constantFrom('llama3.2', 'jane.doe@example.com'), fc.array(fc.nat(), { maxLength: 6 }), (kind, pieces, model, cuts) => {
        // a seed cut in two ("123-45|-6789") is spread over two tokens
        const tokens = pieces.flatMap((p) => p.includes('|') ? p.split('|') : [p])
        const lines = [...tokens.map((t) => tokenLine(kind, t, model)), closing(kind)]
        const run = (ls: string[]) => {
          const obs = newObs()
          const bytes = Buffer.from(ls.map((l) => l + '\n').join(''))
          const out = runStage(e.replyStage(kind, 'ndjson', obs), cutBytes(bytes, cuts.map((c) => c % (bytes.length + 1)))).join('')
          return { out, obs }
        }
        const fast = run(lines)
        const parsed = run(lines.map(spaced))
        expect(fast).toEqual(parsed)
      }), { numRuns: 500 })
  })
})
