// The command line explains itself: each command's own help, the version, and every flag problem as
// one line naming the flag and the command's usage (with a guess at a misspelling), never Node's
// raw argument-parser messages. Exact lines, through main() and through the built binary.
import { describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli, tempConfig } from '../helpers/cli.js'
import { runBin } from '../helpers/process.js'

const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version
const lines = (text: string) => text.replace(/\n$/, '').split('\n')

/** runs the command and expects exit 2 with exactly one line on stderr and nothing on stdout */
async function refused (args: string[]): Promise<string> {
  const r = await cli(args)
  expect(r.code, r.err).toBe(2)
  expect(r.out).toBe('')
  expect(lines(r.err)).toHaveLength(1)
  return lines(r.err)[0] as string
}

describe('help', () => {
  it('`COMMAND --help` prints that command\'s usage and flags on stdout, exit 0', async () => {
    const r = await cli(['user', 'add', '--help'])
    expect(r.code).toBe(0)
    expect(r.err).toBe('')
    expect(lines(r.out)).toEqual([
      'usage: gatehouse user add NAME --role ROLE [--password-stdin [--temporary]]',
      'create a user; without --password-stdin prints a generated one-time password',
      '',
      'flags:',
      '  --role ROLE       a role of rbac.roles',
      '  --password-stdin  read the password from standard input (on a terminal: asked twice, not echoed)',
      '  --temporary       the password is one-time: its owner must choose a new one at the next sign-in',
      '  --config PATH     configuration file (else $GATEHOUSE_CONFIG, else config/gatehouse.yaml)',
      '  --json            print one JSON document on stdout',
      '  -h, --help        show this help'
    ])
  })

  it('`help COMMAND` and `COMMAND -h` print the same as `COMMAND --help`', async () => {
    const expected = (await cli(['evidence', 'export', '--help'])).out
    expect(lines(expected)[0]).toBe('usage: gatehouse evidence export --days N --out FILE [--force]')
    expect(expected).toContain('\n  --force        write inside a git working tree even where .gitignore does not cover FILE\n')
    expect((await cli(['help', 'evidence', 'export'])).out).toBe(expected)
    expect((await cli(['evidence', 'export', '-h'])).out).toBe(expected)
  })

  it('help wins over other problems on the line: a bad flag next to --help still shows the help', async () => {
    const r = await cli(['key', 'create', '--nmae', 'x', '--help'])
    expect(r.code).toBe(0)
    expect(lines(r.out)[0]).toBe('usage: gatehouse key create --name NAME --role ROLE [--expires-in DURATION]')
  })

  it('a group\'s help lists its commands; `help` alone and `--help` print the global usage', async () => {
    const group = await cli(['key', '--help'])
    expect(lines(group.out)).toEqual([
      'usage: gatehouse key <create|list|revoke|rotate> ...',
      '  gatehouse key create --name NAME --role ROLE [--expires-in DURATION]  create an API key; it is printed once, only its hash is stored',
      '  gatehouse key list                                                    list API keys',
      '  gatehouse key revoke ID                                               revoke an API key',
      '  gatehouse key rotate ID [--grace DURATION]                            a new key with the same name, role and expiry policy, ' +
        'printed once; the old one works until the grace ends',
      '`gatehouse key <command> --help` shows its flags.'
    ])
    const global = await cli(['--help'])
    expect(global.code).toBe(0)
    expect(lines(global.out)[0]).toBe('usage: gatehouse <command> [--config PATH] [--json]')
    expect(lines(global.out)).toContainEqual(
      expect.stringMatching(/^ {2}mfa qr {2,}draw the otpauth URL read from standard input \(or a login reply holding one\) as a QR code$/))
    expect((await cli(['help'])).out).toBe(global.out)
  })

  it('no command at all prints the global usage on stderr, exit 2', async () => {
    const r = await cli([])
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(lines(r.err)[0]).toBe('usage: gatehouse <command> [--config PATH] [--json]')
  })

  it('--version prints the package version', async () => {
    const r = await cli(['--version'])
    expect(r).toMatchObject({ code: 0, out: `gatehouse ${VERSION}\n`, err: '' })
  })
})

describe('flag problems: one line, the flag, the usage', () => {
  it('an unknown flag, with the close one it stands for', async () => {
    expect(await refused(['user', 'add', 'alice', '--rol', 'admin'])).toBe(
      'gatehouse: unknown flag --rol for "user add" (did you mean --role?); usage: gatehouse user add NAME --role ROLE [--password-stdin [--temporary]]')
    expect(await refused(['--verison'])).toBe('gatehouse: unknown flag --verison (did you mean --version?); usage: gatehouse <command> [--config PATH] [--json]')
    expect(await refused(['evidence', 'export', '--days', '7', '--out', 'x.json', '--froce'])).toBe(
      'gatehouse: unknown flag --froce for "evidence export" (did you mean --force?); usage: gatehouse evidence export --days N --out FILE [--force]')
  })

  it('an unknown flag nothing resembles gets no guess', async () => {
    expect(await refused(['key', 'list', '--zzzzzz'])).toBe('gatehouse: unknown flag --zzzzzz for "key list"; usage: gatehouse key list')
  })

  it('a flag of another command', async () => {
    expect(await refused(['user', 'list', '--role', 'admin'])).toBe('gatehouse: --role is not a flag for "user list"; usage: gatehouse user list')
  })

  it('a missing value, and a value that looks like a flag (Node calls it "ambiguous")', async () => {
    expect(await refused(['key', 'create', '--name', 'ci', '--role'])).toBe(
      'gatehouse: --role needs a value (--role ROLE); usage: gatehouse key create --name NAME --role ROLE [--expires-in DURATION]')
    expect(await refused(['key', 'create', '--name', '--role', 'user'])).toBe(
      'gatehouse: --name needs a value (--name NAME), not the flag --role; write --name=--role if that is the value; usage: gatehouse key create --name NAME --role ROLE [--expires-in DURATION]')
  })

  it('a value given to a switch', async () => {
    expect(await refused(['user', 'list', '--json=yes'])).toBe('gatehouse: --json takes no value; usage: gatehouse user list')
  })

  it('unknown commands, with the close one they stand for', async () => {
    expect(await refused(['usr', 'list'])).toBe('gatehouse: unknown command "usr"; did you mean "user"? (see gatehouse --help)')
    expect(await refused(['user', 'lst'])).toBe('gatehouse: unknown command "user lst"; did you mean "user list"? (see gatehouse user --help)')
    expect(await refused(['user'])).toBe('gatehouse: "user" needs a command: add, list, disable, enable, delete, set-role, reset-mfa, unlock, set-password (see gatehouse user --help)')
  })

  it('a usage error of a command names its usage too', async () => {
    const { file } = tempConfig()
    expect(await refused(['key', 'create', '--role', 'user', '--config', file])).toBe(
      'gatehouse: missing --name NAME; usage: gatehouse key create --name NAME --role ROLE [--expires-in DURATION]')
  })

  it('the real binary prints no text of Node\'s argument parser', async () => {
    const cases = [['--version=1'], ['user', 'add', 'x', '--role'], ['key', 'create', '--name', '--role', 'user'], ['-x'], ['user', 'list', '--unknown']]
    const [v, ...runs] = await Promise.all([runBin(['--version']), ...cases.map((args) => runBin(args))])
    for (const [i, r] of runs.entries()) {
      const args = (cases[i] as string[]).join(' ')
      expect(r.status, args).toBe(2)
      expect(lines(r.stderr), args).toHaveLength(1)
      expect(r.stderr).not.toMatch(/To specify a positional argument|argument is ambiguous|ERR_PARSE_ARGS/)
    }
    expect(v?.stdout).toBe(`gatehouse ${VERSION}\n`)
  })
})

describe('finding the configuration', () => {
  it('with none found, says where it looked and suggests --config', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gh-noconf-'))
    const env = { ...process.env }
    delete env.GATEHOUSE_CONFIG
    const r = await runBin(['user', 'list'], { cwd, env })
    expect(r.status).toBe(2)
    expect(lines(r.stderr)).toEqual([
      `gatehouse: no configuration file: looked for ${join(cwd, 'config', 'gatehouse.yaml')} (the default, as neither --config nor $GATEHOUSE_CONFIG is set); pass --config PATH`
    ])
  })

  it('names where the path came from: --config or $GATEHOUSE_CONFIG', async () => {
    expect(await refused(['user', 'list', '--config', '/nonexistent/a.yaml'])).toBe('gatehouse: no configuration file at /nonexistent/a.yaml (from --config)')
    const r = await runBin(['compliance', 'check'], { env: { ...process.env, GATEHOUSE_CONFIG: '/nonexistent/g.yaml' } })
    expect(lines(r.stderr)).toEqual(['gatehouse: no configuration file at /nonexistent/g.yaml (from $GATEHOUSE_CONFIG); fix it or pass --config PATH'])
  })

  it('every command, serve included, finds the same file in the default place', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gh-conf-'))
    const env = { ...process.env }
    delete env.GATEHOUSE_CONFIG
    // a config invalid in one known way: each command names the same file and problem
    mkdirSync(join(cwd, 'config'))
    writeFileSync(join(cwd, 'config', 'gatehouse.yaml'), 'nope: 1\n')
    const commands = [['serve'], ['user', 'list'], ['compliance', 'check']]
    const runs = await Promise.all(commands.map((args) => runBin(args, { cwd, env })))
    for (const [i, r] of runs.entries()) {
      const args = (commands[i] as string[]).join(' ')
      expect(r.status, args).toBe(2)
      expect(lines(r.stderr), args).toEqual([`gatehouse: invalid configuration (${join(cwd, 'config', 'gatehouse.yaml')}):`, '  nope: unknown key'])
    }
  })
})
