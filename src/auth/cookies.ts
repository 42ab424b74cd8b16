// The browser's copy of the access token. `__Host-` binds it to this exact origin: Secure, Path=/,
// no Domain. HttpOnly keeps it from scripts; SameSite=Strict keeps it off cross-site requests.
export const SESSION_COOKIE = '__Host-gatehouse'

export function sessionCookie (token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; Secure; SameSite=Strict`
}

export function clearedSessionCookie (): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict`
}

/** The value of cookie `name` in a Cookie header, or null. */
export function readCookie (header: string | undefined, name: string): string | null {
  if (header === undefined) return null
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    if (part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim()
      return v.length > 0 ? v : null
    }
  }
  return null
}
