// Group commit in the file sink: requests flushing while an fdatasync is in flight must not each pay
// a write of their own. Their lines wait for that sync and then go out together, covered by one
// next sync — and every flush still resolves only once its own line is on disk.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { auditConfig, fileSink, lines, openLog, tempDir } from './fixtures.js'
import { eventually } from '../../helpers/eventually.js'

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs')

// counted and held only for the test's own file (by inode): the suite shares this process with other
// files' sinks and timers
const fsCalls = { ino: null as number | null, writes: 0, syncs: 0, holdSync: null as null | ((release: () => void) => void) }
const watched = (fd: number): boolean => fsCalls.ino !== null && fs.fstatSync(fd).ino === fsCalls.ino
const watch = (path: string): void => { fsCalls.ino = fs.statSync(path).ino }

// node:fs itself is wrapped (and the ES module bindings re-synced to it), not mocked per file: the
// suite shares its module cache between test files, where a module mock would not reach a sink
// module another file has already loaded
const realFs = { writeSync: fs.writeSync, fdatasync: fs.fdatasync }
beforeAll(() => {
  const wrapped = fs as unknown as Record<string, unknown>
  wrapped.writeSync = (...args: Parameters<typeof fs.writeSync>) => {
    if (watched(args[0])) fsCalls.writes++
    return (realFs.writeSync as (...a: unknown[]) => number)(...args)
  }
  wrapped.fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    if (!watched(fd)) return realFs.fdatasync(fd, cb)
    fsCalls.syncs++
    const hold = fsCalls.holdSync
    if (hold === null) return realFs.fdatasync(fd, cb)
    hold(() => realFs.fdatasync(fd, cb))
  }
  syncBuiltinESMExports()
})
afterAll(() => {
  Object.assign(fs, realFs)
  syncBuiltinESMExports()
})

let cleanup = () => {}
afterEach(() => { cleanup(); fsCalls.holdSync = null; fsCalls.ino = null })

describe('audit file sink group commit', () => {
  it('writes the lines of flushes that arrive during an fdatasync in one write, and each flush waits for its own sync', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)]))
    watch(path)
    await log.flush()

    // the first request's sync is held in flight until released
    let release: () => void = () => {}
    fsCalls.holdSync = (r) => { release = r; fsCalls.holdSync = null }
    log.emit({ action: 'login', outcome: 'success', userName: 'first' })
    let firstDone = false
    const first = log.flush().then(() => { firstDone = true })
    await eventually(() => expect(fsCalls.syncs).toBeGreaterThan(0))

    // eight more requests finish while that sync runs
    const writesBefore = fsCalls.writes
    const syncsBefore = fsCalls.syncs
    const settled: boolean[] = []
    const rest = Array.from({ length: 8 }, (_, i) => {
      log.emit({ action: 'login', outcome: 'success', userName: `u${i}` })
      return log.flush().then(() => { settled[i] = true })
    })
    // a few turns of the event loop, the window in which a write would show: nothing can be awaited
    // for something that must not happen
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    // nothing of theirs was written, and no flush resolved, while the first sync is in flight
    expect(fsCalls.writes).toBe(writesBefore)
    expect(firstDone).toBe(false)
    expect(settled.filter(Boolean)).toHaveLength(0)

    release()
    await Promise.all([first, ...rest])
    // one write and one sync for all eight
    expect(fsCalls.writes - writesBefore).toBe(1)
    expect(fsCalls.syncs - syncsBefore).toBe(1)
    await log.close()
    const names = lines(path).map((l) => JSON.parse(l)).filter((e) => e.event.action === 'login').map((e) => e.user.name)
    expect(names).toEqual(['first', ...Array.from({ length: 8 }, (_, i) => `u${i}`)])
  })

  it('does not hold back a line nobody flushes: it is written at once even while the periodic sync runs', async () => {
    const t = tempDir(); cleanup = t.cleanup
    const path = join(t.dir, 'audit.log')
    const log = await openLog(auditConfig([fileSink(path)], { failClosed: false }))
    watch(path)
    await log.flush()
    // the next sync (the sink's own, every flushIntervalMs) is held in flight
    let release: () => void = () => {}
    let held = false
    fsCalls.holdSync = (r) => { release = r; held = true; fsCalls.holdSync = null }
    log.emit({ action: 'login', outcome: 'success', userName: 'first' })
    await eventually(() => expect(held).toBe(true), { timeoutMs: 3000 })

    // a refusal, a login: events no request waits on
    const writesBefore = fsCalls.writes
    log.emit({ action: 'access-denied', outcome: 'failure', userName: 'second' })
    // "at once": within a few turns of the event loop, not whenever the held sync ends
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(fsCalls.writes - writesBefore).toBe(1)
    const names = lines(path).map((l) => JSON.parse(l)).map((e) => e.user?.name)
    expect(names).toContain('second')
    release()
    await log.close()
  })
})
