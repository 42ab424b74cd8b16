// An evidence bundle holds user data (names, roles, login times, audit statistics): it must not
// land where `git add .` picks it up. A path inside a git working tree is refused unless a
// .gitignore covers it (as git itself reads them) or the operator insists.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/** The working tree holding `path` (the nearest folder above it with a `.git`), or null. */
function workingTreeOf (path: string): string | null {
  let dir = dirname(resolve(path))
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** Whether git's ignore rules (.gitignore files, info/exclude, core.excludesFile) cover `path`; null when git cannot say. */
function gitIgnores (tree: string, path: string): boolean | null {
  try {
    execFileSync('git', ['check-ignore', '--quiet', '--no-index', '--', relative(tree, resolve(path))],
      { cwd: tree, stdio: 'ignore', timeout: 10_000 })
    return true
  } catch (err) {
    return (err as { status?: number | null }).status === 1 ? false : null
  }
}

/** Why writing user data to `path` could end up in a commit, or null when it cannot. */
export function repositoryExposure (path: string): string | null {
  const tree = workingTreeOf(path)
  if (tree === null) return null
  const ignored = gitIgnores(tree, path)
  if (ignored === true) return null
  const why = ignored === null ? ' (git could not tell whether .gitignore covers it)' : ' and no .gitignore covers it'
  return `${resolve(path)} is inside the git working tree ${tree}${why}`
}
