// Runs the real `gatehouse` binary as a child process and reads its stderr as it comes.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gatehouse.js')

export interface Served { child: ChildProcess, url: string, stderr: () => string, exit: Promise<number | null> }

export function startServe (configFile: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve did not start:\n${err}`)) }, timeoutMs)
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /gatehouse listening on (https?:\/\/[^\s]+)/.exec(err)
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] as string, stderr: () => err, exit }) }
    })
    child.stdout?.resume()
    void exit.then((code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}:\n${err}`)) })
  })
}

export interface BinRun { status: number | null, stdout: string, stderr: string }

/** Runs the binary to its exit without blocking the worker, so that several runs can overlap. */
export function runBin (args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<BinRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { ...options, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ status, stdout, stderr })
    })
  })
}
