#!/usr/bin/env node
// `npm run lint`: eslint, the layer rules (dependency-cruiser), the type check of src, test and
// bench, and the console's type check, run at the same time (they read, never write, the same
// files); each one's output is printed whole once it ends, and the exit code is 1 if any failed.
import { spawn } from 'node:child_process'

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname
const TYPECHECK_CACHE = 'node_modules/.cache/gatehouse/typecheck.tsbuildinfo'
const CHECKS = [
  ['eslint', bin('eslint'), ['.']],
  ['layers', bin('depcruise'), ['src', '--config', '.dependency-cruiser.mjs']],
  ['types', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', TYPECHECK_CACHE]],
  ['console types', bin('tsc'), ['-p', 'console/tsconfig.json']]
]

const run = ([name, cmd, args]) => new Promise((resolve) => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  child.on('error', (err) => resolve({ name, code: 1, out: `${out}${err.message}\n` }))
  child.on('close', (code) => resolve({ name, code: code ?? 1, out }))
})

let failed = false
await Promise.all(CHECKS.map(async (check) => {
  const r = await run(check)
  if (r.out.trim() !== '') process.stdout.write(r.out.endsWith('\n') ? r.out : r.out + '\n')
  process.stdout.write(`lint: ${r.name} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}\n`)
  if (r.code !== 0) failed = true
}))
process.exit(failed ? 1 : 0)
