// The console's only way to the server: same-origin fetches with the session cookie. State changes
// send JSON (the server's CSRF guard wants application/json and the console's own Origin).

export class ApiError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

type Listener = () => void
let onSessionEnded: Listener = () => {}
/** called when a request finds the session gone (idle, expired, revoked) */
export function whenSessionEnds (f: Listener): void { onSessionEnded = f }

export async function api<T = unknown> (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown,
  options: { quiet401?: boolean } = {}): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } }
  if (method !== 'GET') {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' }
    init.body = JSON.stringify(body ?? {})
  }
  let res: Response
  try {
    res = await fetch(path, init)
  } catch {
    throw new ApiError(0, 'the gateway cannot be reached')
  }
  const text = await res.text()
  let data: unknown
  try { data = text === '' ? null : JSON.parse(text) } catch { data = null }
  if (!res.ok) {
    const e = (data as { error?: unknown } | null)?.error
    const message = typeof e === 'string' ? e : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : `HTTP ${res.status}`
    if (res.status === 401 && options.quiet401 !== true) onSessionEnded()
    throw new ApiError(res.status, res.status === 404 && path.startsWith('/admin/') && message === 'not found'
      ? 'this gateway does not offer this yet (404)' : message)
  }
  return data as T
}

export const errorText = (e: unknown): string => e instanceof Error ? e.message : String(e)
