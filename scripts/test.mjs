#!/usr/bin/env node
// `npm test`: the lint checks (scripts/lint.mjs) and the vitest suite, at the same time. Lint is CPU
// work from start to end, while much of the suite waits on sockets, child processes and timers, so
// on a small machine the two overlap instead of adding up. The suite's output streams as it runs;
// lint's is printed once it ends (lint.mjs buffers each check's). Arguments go to vitest
// (`npm test -- test/unit/audit`). The exit code is 1 when either failed.
import { spawn } from 'node:child_process'

const node = process.execPath
const here = (path) => new URL(path, import.meta.url).pathname

/** runs a command; resolves with its exit code and, when `quiet`, its output */
function run (args, quiet) {
  return new Promise((resolve) => {
    const child = spawn(node, args, { stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'] })
    let out = ''
    if (quiet) {
      child.stdout.on('data', (d) => { out += d })
      child.stderr.on('data', (d) => { out += d })
    }
    child.on('error', (err) => resolve({ code: 1, out: `${out}${err.message}\n` }))
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }))
  })
}

const [lint, suite] = await Promise.all([
  run([here('./lint.mjs')], true),
  run([here('../node_modules/vitest/vitest.mjs'), 'run', ...process.argv.slice(2)], false)
])
process.stdout.write(`\n${lint.out}`)
if (suite.code !== 0) process.stdout.write(`test: vitest FAILED (exit ${suite.code})\n`)
process.exit(lint.code !== 0 || suite.code !== 0 ? 1 : 0)
