// The real client libraries users point at Gatehouse, configured to trust the test CA.
import { fetch as undiciFetch, type Agent } from 'undici'
import { Ollama } from 'ollama'
import OpenAI from 'openai'

function trustingFetch (dispatcher: Agent): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch
}

export function ollamaClient (url: string, dispatcher: Agent, headers: Record<string, string> = {}): Ollama {
  return new Ollama({ host: url, fetch: trustingFetch(dispatcher), headers })
}

export function openaiClient (url: string, dispatcher: Agent, apiKey = 'unused'): OpenAI {
  return new OpenAI({ baseURL: url + '/v1', apiKey, fetch: trustingFetch(dispatcher), maxRetries: 0 })
}
