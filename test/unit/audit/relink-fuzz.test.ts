// Random runs of emits, revisions, flushes and a disk that fails (wholly or part-way through a
// write) while the file rotates: every revision that lands shows in the file, and the files verify.
import { afterEach, describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../../src/audit/index.js'
import { auditConfig, fileSink, openLog, tempDir, verifyKeys } from './fixtures.js'

let cleanup: () => unknown = () => {}
afterEach(async () => { await cleanup(); cleanup = () => {} })

function rng (seed: number) { return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff } }

describe('revisions under a failing, rotating file sink', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, async () => {
      const r = rng(seed)
      const t = tempDir()
      const path = join(t.dir, 'audit.log')
      const disk = { failing: false, partial: false }
      const write = (fd: number, buf: Buffer, off: number, len: number): number => {
        if (disk.failing) {
          if (disk.partial && len > 10) return writeSync(fd, buf, off, Math.floor(len / 2))
          throw Object.assign(new Error('no space'), { code: 'ENOSPC' })
        }
        return writeSync(fd, buf, off, len)
      }
      const log = await openLog(auditConfig([fileSink(path, 6000)]), { tuning: { fileWrite: write } })
      cleanup = async () => { await log.close(); t.cleanup() }
      const emitted: number[] = []
      const revised = new Map<number, string>()
      for (let step = 0; step < 600; step++) {
        const x = r()
        if (x < 0.5) emitted.push(log.emit({ action: 'login', outcome: 'success', userName: `orig-${step}` }))
        else if (x < 0.7 && emitted.length > 0) {
          const seq = emitted[Math.floor(r() * emitted.length)] as number
          const name = `rev-${step}`
          if (log.revise(seq, { action: 'logout', outcome: 'failure', userName: name })) revised.set(seq, name)
        } else if (x < 0.78) { disk.failing = !disk.failing; disk.partial = r() < 0.5 }
        else if (x < 0.85) { try { await log.flush() } catch { /* refused while the disk fails */ } }
        else await new Promise((res) => setImmediate(res))
      }
      disk.failing = false
      await log.flush()
      await log.close()
      const files = readdirSync(t.dir).filter((n) => n.startsWith('audit.log') && !n.endsWith('.checkpoints')).map((n) => join(t.dir, n))
      const events = files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)))
      // every event is in the files, once (nothing is dropped below maxPending), each revision shows
      const seqs = events.map((ev) => ev.gatehouse.chain.seq as number).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1))
      expect(seqs.at(-1)).toBeGreaterThanOrEqual(Math.max(...emitted))
      expect(revised.size).toBeGreaterThan(0)
      for (const [seq, name] of revised) expect(events.find((ev) => ev.gatehouse.chain.seq === seq)?.user?.name, `seq ${seq}`).toBe(name)
      const res = await verifyAuditFiles(files, verifyKeys)
      expect(res.firstBad).toBeUndefined()
      expect(res.ok).toBe(true)
    })
  }
})
