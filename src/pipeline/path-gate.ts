// A strict gate on the raw request target, before routing: only plain origin-form paths made of
// safe characters reach the router. Encoded bytes, dot segments, empty segments, `;` parameters,
// NULs, backslashes and absolute-form targets are refused outright instead of being interpreted,
// so no spelling of a path can reach a route it does not literally name.
const SAFE_PATH = /^(?:\/[A-Za-z0-9._~:@+-]+)+$/

export function splitTarget (rawUrl: string): { path: string, query: string } {
  const q = rawUrl.indexOf('?')
  return q === -1 ? { path: rawUrl, query: '' } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) }
}

/** True when the path part of the raw target is a canonical path we are willing to route on. */
export function isCanonicalPath (rawUrl: string): boolean {
  const { path } = splitTarget(rawUrl)
  // the console's entry page is the one directory-style path (its assets are named relative to it)
  if (path === '/' || path === '/console/') return true
  if (!SAFE_PATH.test(path)) return false
  return !path.split('/').some((seg) => seg === '.' || seg === '..')
}
