// File naming (rotated files, checkpoint files), reading the tail of a log on open, and appending
// checkpoint lines whole.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, readdirSync, existsSync, writeSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isChainLink, type ChainPoint } from './chain.js'

const ROTATED = /^(.*)\.(\d{8}T\d{9}Z)(?:\.(\d+))?$/
const STAMP = /\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z(?:\.\d+)?$/

export const checkpointPathOf = (logPath: string) => logPath + '.checkpoints'

/** `<path>.<UTC yyyymmddThhmmssmmmZ>`, with `.<n>` added if that name is taken. */
export function rotatedName (path: string, time: number, exists: (p: string) => boolean = existsSync): string {
  const stamp = new Date(time).toISOString().replace(/[-:.]/g, '')
  let name = `${path}.${stamp}`
  for (let n = 1; exists(name); n++) name = `${path}.${stamp}.${n}`
  return name
}

/** The active log a rotated file belonged to, or null when the name is not a rotated one. */
export function baseOfRotated (file: string): string | null {
  const m = ROTATED.exec(file)
  return m ? (m[1] as string) : null
}

/** When a rotated file was set aside (the UTC stamp in its name); every event in it is older. Null for any other name. */
export function rotatedAt (file: string): number | null {
  const m = STAMP.exec(file)
  if (m === null) return null
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s, ms)
}

/** A file's place in its log's rotation order: a rotated name's stamp and `.<n>`; null for an active log. */
type Place = { stamp: string, n: number } | null
const placeOf = (m: RegExpExecArray | null): Place => m === null ? null : { stamp: m[2] as string, n: Number(m[3] ?? 0) }

/** Negative when `a` was set aside before `b`; an active log (null) comes after every rotated file. */
function comparePlaces (a: Place, b: Place): number {
  if (a === null || b === null) return a === b ? 0 : (a === null ? 1 : -1)
  return a.stamp !== b.stamp ? (a.stamp < b.stamp ? -1 : 1) : a.n - b.n
}

/**
 * Where the file named `name` stands among the files of the log whose active file is named `base`
 * (names without folders): `{ place }`, or null when the name is neither `<base>` nor `<base>.<time>`.
 */
export function placeInLog (name: string, base: string): { place: Place } | null {
  if (name === base) return { place: null }
  const m = ROTATED.exec(name)
  return m !== null && m[1] === base ? { place: placeOf(m) } : null
}

/** Negative, zero or positive as the file named `a` was set aside before, with or after `b` (same log). */
export const compareInLog = (a: { place: Place }, b: { place: Place }): number => comparePlaces(a.place, b.place)

/**
 * Files in the order they were set aside: rotated names by their UTC stamp, then by their `.<n>`
 * as a number (`.10` after `.2`), and every other name (an active log) after them, in the order
 * given. Not lexical: a shell glob puts `audit.log` before its rotated files.
 */
export function inRotationOrder (files: string[]): string[] {
  return files
    .map((f, i) => ({ f, i, p: placeOf(ROTATED.exec(basename(f))) }))
    .sort((a, b) => comparePlaces(a.p, b.p) || a.i - b.i)
    .map((x) => x.f)
}

/** Rotated siblings of `path`, newest first. */
export function rotatedSiblings (path: string): string[] {
  let names: string[]
  try { names = readdirSync(dirname(path)) } catch { return [] }
  const base = basename(path)
  const own = names.filter((n) => ROTATED.exec(n)?.[1] === base).map((n) => join(dirname(path), n))
  return inRotationOrder(own).reverse()
}

/**
 * The value `pick` finds in the last complete line of `file` it accepts, read backwards in blocks
 * so that a large file costs only its tail. Null when no line is accepted or the file is unreadable.
 */
export function findFromEnd<T> (file: string, pick: (line: string) => T | null): T | null {
  let fd: number
  try { fd = openSync(file, 'r') } catch { return null }
  try {
    const size = fstatSync(fd).size
    const block = 65536
    let end = size
    let carry = Buffer.alloc(0)
    while (end > 0) {
      const start = Math.max(0, end - block)
      const buf = Buffer.alloc(end - start)
      readSync(fd, buf, 0, buf.length, start)
      let data = Buffer.concat([buf, carry])
      // lines fully inside `data` end at a newline; the piece before the first newline may be partial
      let stop = data.length
      while (stop > 0) {
        const nl = data.lastIndexOf(0x0a, stop - 1)
        if (nl < 0 && start > 0) break
        const line = data.subarray(nl + 1, stop).toString('utf8')
        stop = nl < 0 ? 0 : nl
        const found = pick(line)
        if (found !== null) return found
      }
      data = data.subarray(0, stop)
      carry = data
      end = start
    }
    return null
  } finally {
    closeSync(fd)
  }
}

/** The chain head of `replica` in `file`: the last complete line that is one of its events. Null when the file has none. */
export function lastChainPoint (file: string, replica: string): ChainPoint | null {
  const marker = `"replica":${JSON.stringify(replica)}`
  return findFromEnd(file, (line) => {
    if (!line.endsWith('}') || !line.includes(marker)) return null
    try {
      const chain = (JSON.parse(line) as { gatehouse?: { chain?: unknown } }).gatehouse?.chain
      return isChainLink(chain) && chain.replica === replica ? { seq: chain.seq, hash: chain.hash } : null
    } catch { return null } // not an event line: keep looking
  })
}

const shortWrite = () => Object.assign(new Error('short write (file system full?)'), { code: 'ENOSPC' })

/**
 * Appends `text` (one line) to an O_APPEND descriptor whole or not at all: a write cut short (a full
 * disk) is cut back off when it still ends the file, and fails with ENOSPC. A later line never
 * follows a fragment, which the verifier would take for a forged checkpoint.
 */
export function appendWholeSync (fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8')
  const start = fstatSync(fd).size
  const n = writeSync(fd, buf)
  if (n === buf.length) return
  if (fstatSync(fd).size === start + n) ftruncateSync(fd, start)
  throw shortWrite()
}

/** appendWholeSync for a FileHandle, off the event loop. */
export async function appendWhole (fh: FileHandle, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8')
  const start = (await fh.stat()).size
  const { bytesWritten } = await fh.write(buf)
  if (bytesWritten === buf.length) return
  if ((await fh.stat()).size === start + bytesWritten) await fh.truncate(start)
  throw shortWrite()
}
