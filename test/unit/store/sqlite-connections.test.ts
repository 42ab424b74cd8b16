// The SQLite store's two connections: account data is committed with FULL (an fsync per commit),
// metering (counters, slots, usage records) with NORMAL, and each sees what the other committed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSqliteStore, openConnection } from '../../../src/store/sqlite.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-conn-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('sqlite store connections', () => {
  it('opens each connection in WAL mode with the durability asked for', () => {
    const path = join(dir, 'modes.db')
    for (const [mode, code] of [['FULL', 2], ['NORMAL', 1]] as const) {
      const db = openConnection(path, mode, 1000)
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(db.pragma('synchronous', { simple: true })).toBe(code)
      db.close()
    }
  })

  it('metering writes are read back through the account connection and by a second handle on the file', async () => {
    const path = join(dir, 'meter.db')
    const a = createSqliteStore({ path })
    await a.migrate()
    const b = createSqliteStore({ path })
    try {
      const now = Date.now()
      expect(await a.state.add('sum:alice:day', 120, now + 60_000, now)).toBe(120)
      expect(await b.state.add('sum:alice:day', 30, now + 60_000, now)).toBe(150)
      expect(await a.state.add('sum:alice:day', 0, now + 60_000, now)).toBe(150)
      await a.insertUsage([{ at: now, identity: 'alice', credential: 'api_key', role: 'user', model: 'llama3', upstream: 'default',
        inputTokens: 100, outputTokens: 50, durationMs: 12, status: 200, incomplete: false }])
      const groups = await b.usageSummary(now - 1000, 'key')
      expect(groups).toHaveLength(1)
      expect(groups[0]).toMatchObject({ inputTokens: 100, outputTokens: 50 })
    } finally {
      await a.close()
      await b.close()
    }
  })
})
