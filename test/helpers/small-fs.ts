// A real, small file system for disk-full tests: a tmpfs of a few hundred KiB, mounted when the
// tests run as root (always so in CI, where a missing mount must fail the suite, not skip it).
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Whether the tmpfs variant runs: as root, and always in CI (where it then must work). */
export const canMountTmpfs = (process.getuid?.() === 0) || process.env.CI === 'true'

export interface SmallFs {
  dir: string
  /** fills the file system with `filler` until the next write fails with ENOSPC; returns the bytes written */
  fill: () => number
  /** deletes the filler: space is back */
  free: () => void
  unmount: () => void
}

export function mountSmallFs (sizeKiB = 256): SmallFs {
  const dir = mkdtempSync(join(tmpdir(), 'gh-smallfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir])
  const filler = join(dir, 'filler')
  return {
    dir,
    fill () {
      const fd = openSync(filler, 'a')
      let total = 0
      try {
        // big blocks first, then single bytes, so no whole page is left
        for (const block of [Buffer.alloc(4096, 0x78), Buffer.alloc(1, 0x78)]) {
          for (;;) {
            try { total += writeSync(fd, block) } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
              throw err
            }
          }
        }
      } finally { closeSync(fd) }
      return total
    },
    free () { rmSync(filler, { force: true }) },
    unmount () {
      // lazy: a test that failed half-way may still hold a file open on it
      try { execFileSync('umount', ['-l', dir]) } finally { rmSync(dir, { recursive: true, force: true }) }
    }
  }
}
