// At a terminal: --password-stdin asks twice without echo, `mfa qr` draws an enrollment's otpauth
// URL as a QR code (drawn locally), and the first-start banner names the command line the way this
// machine can run it (`npx gatehouse` when `gatehouse` is not on the PATH).
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { terminalQr } from '../../src/cli/mfa-qr.js'
import { cliInvocation } from '../../src/config/locate.js'
import { cheapPasswords } from '../helpers/passwords.js'
import { cli, tempConfig } from '../helpers/cli.js'
import { BIN } from '../helpers/process.js'
import { createHarness } from '../unit/auth/harness.js'

const URL_ALICE = 'otpauth://totp/Gatehouse:alice?secret=JBSWY3DPEHPK3PXP&issuer=Gatehouse'
const lines = (text: string) => text.replace(/\n$/, '').split('\n')

/** main() with a terminal on standard input that answers the prompts in turn */
async function atTerminal (args: string[], answers: string[]) {
  let out = ''
  let err = ''
  const prompts: string[] = []
  const code = await main(args, {
    out: (t) => { out += t + '\n' },
    err: (t) => { err += t + '\n' },
    readStdin: async () => { throw new Error('a terminal is not read as a pipe') },
    readPassword: async (prompt) => { prompts.push(prompt); return answers.shift() ?? '' }
  }, { passwords: cheapPasswords })
  return { code, out, err, prompts }
}

describe('--password-stdin at a terminal', () => {
  it('asks twice without echo and sets the password', async () => {
    const { file } = tempConfig()
    const r = await atTerminal(['user', 'add', 'tess', '--role', 'user', '--password-stdin', '--config', file], ['quiet-lantern-orchard-7', 'quiet-lantern-orchard-7'])
    expect(r.code, r.err).toBe(0)
    expect(r.prompts).toEqual(['New password: ', 'Repeat it: '])
    expect(r.out).toBe('created user tess (role user)\n')
    expect(r.out + r.err).not.toContain('quiet-lantern')
  })

  it('two different answers change nothing', async () => {
    const { file } = tempConfig()
    await cli(['user', 'add', 'tess', '--role', 'user', '--config', file])
    const r = await atTerminal(['user', 'set-password', 'tess', '--password-stdin', '--config', file], ['quiet-lantern-orchard-7', 'quiet-lantern-orchard-8'])
    expect(r.code).toBe(2)
    expect(lines(r.err)).toEqual(['gatehouse: the two passwords differ; nothing was changed; usage: gatehouse user set-password NAME --password-stdin'])
  })
})

describe('gatehouse mfa qr', () => {
  it('draws the otpauth URL of a login reply as a QR code, with the secret and the mfa_token as text', async () => {
    const reply = JSON.stringify({ status: 'mfa_enrollment_required', mfa_token: 'tok-123', otpauth_url: URL_ALICE })
    const r = await cli(['mfa', 'qr'], reply + '\n')
    expect(r.code, r.err).toBe(0)
    const qr = lines(await terminalQr(URL_ALICE))
    expect(qr.length).toBeGreaterThan(10)
    expect(lines(r.out)).toEqual([
      ...qr,
      'scan it with an authenticator app, or add Gatehouse:alice by hand with the secret JBSWY3DPEHPK3PXP',
      'then send the app\'s current code with this mfa_token to POST /auth/mfa: tok-123'
    ])
  })

  it('takes a bare URL too, and needs no configuration', async () => {
    const r = spawnSync(process.execPath, [BIN, 'mfa', 'qr'], { input: URL_ALICE, cwd: mkdtempSync(join(tmpdir(), 'gh-qr-')), encoding: 'utf8', timeout: 20_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(lines(r.stdout).at(-1)).toBe('scan it with an authenticator app, or add Gatehouse:alice by hand with the secret JBSWY3DPEHPK3PXP')
  })

  it('the QR code is drawn in character cells: a square of equal-width lines', async () => {
    // eslint-disable-next-line no-control-regex -- the colour codes are not part of the width
    const visible = lines(await terminalQr(URL_ALICE)).map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''))
    expect(new Set(visible.map((l) => [...l].length)).size).toBe(1)
    expect(visible.join('')).toMatch(/^[ ▀▄█]+$/)
  })

  it('refuses what holds no enrollment, and never takes the secret as an argument', async () => {
    expect(lines((await cli(['mfa', 'qr'], '{"status":"mfa_required","mfa_token":"x"}')).err)).toEqual([
      'gatehouse: mfa qr: the login reply holds no otpauth_url (status mfa_required: enrollment is not required)'
    ])
    expect(lines((await cli(['mfa', 'qr'], 'https://example.com/?secret=x')).err)).toEqual(['gatehouse: mfa qr: expected an otpauth://totp/… URL with a secret'])
    const arg = await cli(['mfa', 'qr', URL_ALICE])
    expect(arg.code).toBe(2)
    expect(arg.err).not.toContain('JBSWY3DPEHPK3PXP')
  })
})

describe('the first-start banner', () => {
  it('says `npx gatehouse` where gatehouse is not on the PATH, `gatehouse` where it is', () => {
    const bin = mkdtempSync(join(tmpdir(), 'gh-path-'))
    const npmBin = join(mkdtempSync(join(tmpdir(), 'gh-proj-')), 'node_modules', '.bin')
    mkdirSync(npmBin, { recursive: true })
    writeFileSync(join(npmBin, 'gatehouse'), '#!/bin/sh\n')
    expect(cliInvocation({ PATH: ['/nonexistent', bin].join(delimiter) })).toBe('npx gatehouse')
    // npm and npx put node_modules/.bin on the PATH of what they run: the shell does not have it
    expect(cliInvocation({ PATH: [npmBin, bin].join(delimiter) })).toBe('npx gatehouse')
    writeFileSync(join(bin, 'gatehouse'), '#!/bin/sh\n')
    chmodSync(join(bin, 'gatehouse'), 0o755)
    expect(cliInvocation({ PATH: ['/nonexistent', bin].join(delimiter) })).toBe('gatehouse')
  })

  it('names the command line as given, for setting the password and drawing the enrollment QR code', async () => {
    const h = await createHarness()
    try {
      const banner: string[] = []
      await h.auth.ensureBootstrapAdmin((l) => banner.push(l), 'npx gatehouse')
      expect(banner).toContain('the login reply piped into `npx gatehouse mfa qr` shows its otpauth_url as a QR code to scan;')
      expect(banner).toContain('then, in that session, set your own password: POST /auth/password {current_password, new_password, code};')
      expect(banner).toContain('from this shell instead (ends every session of the account): npx gatehouse user set-password admin --password-stdin')
    } finally { await h.close() }
  })
})
