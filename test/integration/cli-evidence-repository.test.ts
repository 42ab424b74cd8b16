// Security: an evidence bundle holds user data (names, roles, logins, audit statistics). `evidence
// export` refuses to write it inside a git working tree, where `git add .` would take it, unless a
// .gitignore covers the file or the operator passes --force. And `compliance check` against a store
// it cannot reach says which store and why, without a password.
import { describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { cli, tempConfig } from '../helpers/cli.js'
import { BIN } from '../helpers/process.js'

const lines = (text: string) => text.replace(/\n$/, '').split('\n')

/** a config in a fresh git working tree */
function repoWithConfig (): { repo: string, file: string } {
  const { dir, file } = tempConfig()
  execFileSync('git', ['init', '--quiet', dir])
  return { repo: dir, file }
}

const exportTo = (file: string, out: string, ...extra: string[]) => cli(['evidence', 'export', '--days', '7', '--out', out, '--config', file, ...extra])

describe('evidence export and git working trees', () => {
  it('refuses a file inside a working tree that no .gitignore covers, and writes nothing', async () => {
    const { repo, file } = repoWithConfig()
    const out = join(repo, 'evidence.json')
    const r = await exportTo(file, out)
    expect(r.code).toBe(2)
    expect(lines(r.err)).toEqual([
      `gatehouse: evidence export: ${out} is inside the git working tree ${repo} and no .gitignore covers it; ` +
      'the bundle holds user data: write it outside the repository, add it to .gitignore, or pass --force; ' +
      'usage: gatehouse evidence export --days N --out FILE [--force]'
    ])
    expect(existsSync(out)).toBe(false)
  })

  it('refuses in a subfolder too, and where .git is a file (a linked worktree or submodule)', async () => {
    const { repo, file } = repoWithConfig()
    mkdirSync(join(repo, 'reports'))
    expect((await exportTo(file, join(repo, 'reports', 'q3.json'))).code).toBe(2)
    const linked = mkdtempSync(join(tmpdir(), 'gh-linked-'))
    writeFileSync(join(linked, '.git'), `gitdir: ${join(repo, '.git')}\n`)
    expect((await exportTo(file, join(linked, 'q3.json'))).code).toBe(2)
    expect(existsSync(join(linked, 'q3.json'))).toBe(false)
  })

  it('writes where a .gitignore covers the file, as git reads it', async () => {
    const { repo, file } = repoWithConfig()
    writeFileSync(join(repo, '.gitignore'), 'evidence-*.json\n')
    mkdirSync(join(repo, 'reports'))
    const out = join(repo, 'reports', 'evidence-2026-q4.json')
    const r = await exportTo(file, out)
    expect(r.code, r.err).toBe(0)
    expect(existsSync(out)).toBe(true)
    // a negated pattern uncovers it again
    writeFileSync(join(repo, 'reports', '.gitignore'), '!evidence-2026-q4.json\n')
    expect((await exportTo(file, out)).code).toBe(2)
  })

  it('writes inside a working tree with --force', async () => {
    const { repo, file } = repoWithConfig()
    const out = join(repo, 'evidence.json')
    expect((await exportTo(file, out, '--force')).code).toBe(0)
    expect(existsSync(out)).toBe(true)
  })

  it('writes outside any working tree as before', async () => {
    const { file } = tempConfig()
    const out = join(mkdtempSync(join(tmpdir(), 'gh-evidence-')), 'evidence.json')
    expect((await exportTo(file, out)).code).toBe(0)
    expect(existsSync(out)).toBe(true)
  })
})

describe('compliance check against a store it cannot reach', () => {
  it('names the store and the reason in one line, and no password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-nostore-'))
    const file = join(dir, 'gatehouse.yaml')
    writeFileSync(file, stringify({ store: { url: 'postgres://gatehouse@127.0.0.1:1/gatehouse' } }))
    const r = spawnSync(process.execPath, [BIN, 'compliance', 'check', '--config', file], {
      env: { ...process.env, PGPASSWORD: 'hunter2-not-to-be-shown' }, encoding: 'utf8', timeout: 20_000
    })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(lines(r.stderr)).toEqual(['gatehouse: cannot open the store postgres://gatehouse@127.0.0.1:1/gatehouse: connect ECONNREFUSED 127.0.0.1:1'])
    expect(r.stderr).not.toContain('hunter2')
  })
})
