// Once per test run, before any test file:
// - dist/ must match src/ (and dist/console/assets console/) for the tests that run the real
//   `gatehouse` binary or a browser: it is rebuilt here, and only when some source file is newer
//   than the build (`npm ci` has built it already);
// - one development CA and server certificate for every test file (RSA key generation is the slow
//   part of starting a test gateway), handed to the files through `inject('testCerts')`.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { writeDevCerts, type DevCertPaths } from '../src/tls/dev-certs.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** the run's shared certificates: read them, never write into their folder */
    testCerts: DevCertPaths & { dir: string }
  }
}

function newestMtime (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Builds dist/ when it is missing or older than a file of src/ or the build's tsconfig. */
export function buildIfStale (root: string): boolean {
  const built = join(root, 'dist', 'cli', 'main.js')
  const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs, statSync(join(root, 'tsconfig.json')).mtimeMs)
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return false
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  return true
}

/** Builds the web console's assets (dist/console/assets) when missing or older than a file of console/. */
export function buildConsoleIfStale (root: string): boolean {
  const built = join(root, 'dist', 'console', 'assets', 'app.js')
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'console'))) return false
  execFileSync(process.execPath, [join(root, 'console', 'build.mjs')], { cwd: root, stdio: 'inherit' })
  return true
}

export default function setup (project: TestProject): () => void {
  buildIfStale(join(import.meta.dirname, '..'))
  buildConsoleIfStale(join(import.meta.dirname, '..'))
  const dir = mkdtempSync(join(tmpdir(), 'gh-certs-'))
  const paths = writeDevCerts(join(dir, 'server.crt'), join(dir, 'server.key'))
  project.provide('testCerts', { dir, ...paths })
  return () => rmSync(dir, { recursive: true, force: true })
}
