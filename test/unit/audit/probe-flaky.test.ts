// A failing file sink writes one line, then twice as many after each success, and starts again at
// one after a failure: on a disk that fails every other write, each try offers write(2) a few lines,
// not the encoding of its whole queue.
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { writeSync } from 'node:fs'
import { createFileSink } from '../../../src/audit/sinks/file-sink.js'
import type { AuditEvent } from '../../../src/audit/types.js'
import { tempDir } from './fixtures.js'

let cleanup: Array<() => unknown> = []
afterEach(async () => { for (const c of cleanup.reverse()) await c(); cleanup = [] })

const stale = { staleFrom: () => Infinity, relink: () => {} }
const ev = (seq: number) => ({ gatehouse: { chain: { seq, prev: '0'.repeat(64), hash: '1'.repeat(64), replica: 'r1' } } }) as unknown as AuditEvent
const line = '{"x":"' + 'a'.repeat(300) + '"}'

describe('file sink probe on a flaky disk', () => {
  it('bytes offered to write(2) per try stay near one line while the disk keeps failing', async () => {
    const t = tempDir(); cleanup.push(t.cleanup)
    let calls = 0
    let offered = 0
    const disk = { mode: 'ok' as 'ok' | 'full' | 'flaky' }
    const write = (fd: number, buf: Buffer, off: number, len: number): number => {
      calls++
      if (disk.mode === 'ok') return writeSync(fd, buf, off, len)
      offered += len
      if (disk.mode === 'flaky' && calls % 2 === 1) return writeSync(fd, buf, off, len)
      throw Object.assign(new Error('i/o error'), { code: 'EIO' })
    }
    const sink = createFileSink({ path: join(t.dir, 'audit.log'), maxBytes: 1 << 30, flushIntervalMs: 60_000, replica: 'r1', now: Date.now,
      onProblem: () => {}, beforeRotate: () => {}, stale, write })
    cleanup.push(() => sink.close())
    disk.mode = 'full'
    for (let s = 1; s <= 2000; s++) sink.write(line, ev(s))
    await sink.flush() // fails: the sink is now failing
    disk.mode = 'flaky'
    offered = 0
    const tries = 200
    for (let k = 0; k < tries; k++) await sink.flush()
    const perTry = offered / tries / (line.length + 1)
    expect(perTry).toBeLessThan(10)
  })
})
