// Tests that run the real `gatehouse` binary need dist/ to match src/. `npm test` builds first;
// a bare `npx vitest` rebuilds here only when some source file is newer than the build.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function newestMtime (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

export default function setup (): void {
  const root = join(import.meta.dirname, '..')
  const built = join(root, 'dist', 'cli', 'main.js')
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'src'))) return
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
}
