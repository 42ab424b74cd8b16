// Every process the bench starts is registered here and stopped at the end, also on error or ^C:
// SIGTERM first, SIGKILL after a grace period. Only these pids are ever signalled.
import { spawn, fork } from 'node:child_process'

const live = new Set()

function track (child, name) {
  child.benchName = name
  child.tail = ''
  // always drain the pipes (a full pipe would stall the child) and keep the end for error messages
  const keep = (d) => { child.tail = (child.tail + d.toString()).slice(-8000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

export function spawnTracked (name, cmd, args, options = {}) {
  return track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options }), name)
}

export function forkTracked (name, modulePath, args = [], options = {}) {
  return track(fork(modulePath, args, { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], ...options }), name)
}

export function exited (child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** SIGTERM, then SIGKILL after graceMs */
export async function stop (child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited(child)
  clearTimeout(t)
}

export async function stopAll (graceMs = 3000) {
  await Promise.all([...live].map((c) => stop(c, graceMs)))
}

/** last-resort synchronous kill for process 'exit' */
export function killAllNow () {
  for (const c of live) { try { c.kill('SIGKILL') } catch { /* gone */ } }
}

/** resolve with the first line of stdout/stderr that `match` accepts (returns a value), or reject on timeout/exit */
export function waitForLine (child, streams, match, timeoutMs, label) {
  return new Promise((resolve, reject) => {
    let buf = ''
    const onData = (d) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) !== -1) {
        const l = buf.slice(0, i); buf = buf.slice(i + 1)
        const v = match(l)
        if (v !== undefined && v !== null && v !== false) { done(); resolve(v); return }
      }
    }
    const onExit = (code) => { done(); reject(new Error(`${label} exited (${code}) before it was ready`)) }
    const t = setTimeout(() => { done(); reject(new Error(`${label} not ready after ${timeoutMs} ms`)) }, timeoutMs)
    const done = () => { clearTimeout(t); for (const s of streams) s.off('data', onData); child.off('exit', onExit) }
    for (const s of streams) s.on('data', onData)
    child.once('exit', onExit)
  })
}
