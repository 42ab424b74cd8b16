// The line Ollama writes for each token of a streamed /api/generate or /api/chat reply, read without
// a JSON parser. Ollama's encoder writes it in one fixed shape, byte for byte:
//
//   {"model":"…","created_at":"…","response":"…","done":false}
//   {"model":"…","created_at":"…","message":{"role":"…","content":"…"},"done":false}
//
// A line in exactly that shape is read here; anything else (whitespace, another key or order, a
// string a JSON parser would refuse) is not, and the caller parses it as JSON instead. What is read
// is what JSON.parse gives: a string with an escape is decoded by JSON.parse itself, and one with a
// raw control character is not read.

export interface TokenLine {
  model: string
  createdAt: string
  /** message.role on /api/chat; null on /api/generate */
  role: string | null
  /** the token's text: response (generate) or message.content (chat) */
  text: string
}

const MODEL = '{"model":'
const CREATED_AT = ',"created_at":'
const RESPONSE = ',"response":'
const MESSAGE_ROLE = ',"message":{"role":'
const CONTENT = ',"content":'
const GENERATE_END = ',"done":false}'
const CHAT_END = '},"done":false}'

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** A JSON string starting at `at` (its opening quote): its value and where it ends, or null. */
function stringAt (line: string, at: number): { value: string, next: number } | null {
  if (line.charCodeAt(at) !== QUOTE) return null
  let escaped = false
  for (let i = at + 1; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c === QUOTE) {
      const raw = line.slice(at + 1, i)
      if (!escaped) return { value: raw, next: i + 1 }
      try {
        return { value: JSON.parse(line.slice(at, i + 1)) as string, next: i + 1 }
      } catch {
        return null
      }
    }
    if (c < 0x20) return null
    if (c === BACKSLASH) { escaped = true; i++ }
  }
  return null
}

/** `kind`'s token line, read; null when the line is not in that exact shape. */
export function readTokenLine (kind: 'generate' | 'chat', line: string): TokenLine | null {
  if (!line.startsWith(MODEL)) return null
  const model = stringAt(line, MODEL.length)
  if (model === null || !line.startsWith(CREATED_AT, model.next)) return null
  const createdAt = stringAt(line, model.next + CREATED_AT.length)
  if (createdAt === null) return null
  if (kind === 'generate') {
    if (!line.startsWith(RESPONSE, createdAt.next)) return null
    const text = stringAt(line, createdAt.next + RESPONSE.length)
    if (text === null || text.next + GENERATE_END.length !== line.length || !line.endsWith(GENERATE_END)) return null
    return { model: model.value, createdAt: createdAt.value, role: null, text: text.value }
  }
  if (!line.startsWith(MESSAGE_ROLE, createdAt.next)) return null
  const role = stringAt(line, createdAt.next + MESSAGE_ROLE.length)
  if (role === null || !line.startsWith(CONTENT, role.next)) return null
  const text = stringAt(line, role.next + CONTENT.length)
  if (text === null || text.next + CHAT_END.length !== line.length || !line.endsWith(CHAT_END)) return null
  return { model: model.value, createdAt: createdAt.value, role: role.value, text: text.value }
}
