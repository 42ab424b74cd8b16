// The command line's grammar: every command with its synopsis and flags, the help texts made from
// them, and a parser whose every complaint is one line naming the flag and the command's usage.
// Node's parseArgs only splits the arguments (non-strict); the checks and their wording are here.
import { parseArgs } from 'node:util'

export type FlagName =
  'config' | 'json' | 'help' | 'version' | 'role' | 'name' | 'password-stdin' | 'expires-in' | 'days' | 'out' | 'force' | 'notify' |
  'temporary' | 'grace' | 'since' | 'by' | 'csv' | 'url' | 'ca' | 'export'

interface FlagSpec { type: 'string' | 'boolean', value?: string, short?: string, help: string }

const FLAGS: Record<FlagName, FlagSpec> = {
  config: { type: 'string', value: 'PATH', help: 'configuration file (else $GATEHOUSE_CONFIG, else config/gatehouse.yaml)' },
  json: { type: 'boolean', help: 'print one JSON document on stdout' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  version: { type: 'boolean', help: 'print the version' },
  role: { type: 'string', value: 'ROLE', help: 'a role of rbac.roles' },
  name: { type: 'string', value: 'NAME', help: 'what the key is for (e.g. the service using it)' },
  'password-stdin': { type: 'boolean', help: 'read the password from standard input (on a terminal: asked twice, not echoed)' },
  'expires-in': { type: 'string', value: 'DURATION', help: 'lifetime such as 90d, 12h or 30m (default: never expires)' },
  days: { type: 'string', value: 'N', help: 'the period covered: the last N days (1 to 3660)' },
  out: { type: 'string', value: 'FILE', help: 'where to write the bundle (mode 0600)' },
  force: { type: 'boolean', help: 'write inside a git working tree even where .gitignore does not cover FILE' },
  notify: { type: 'string', value: 'URL', help: 'post the report to this webhook (Slack-compatible JSON); never printed' },
  temporary: { type: 'boolean', help: 'the password is one-time: its owner must choose a new one at the next sign-in' },
  grace: { type: 'string', value: 'DURATION', help: 'how long the old key keeps working, such as 24h, 30m or 0 (default 24h)' },
  since: { type: 'string', value: 'DURATION', help: 'the period summed: the last 30d, 12h, 2w … (default 30d)' },
  by: { type: 'string', value: 'user|key|model|upstream|day', help: 'what the sums are grouped by (default user)' },
  csv: { type: 'boolean', help: 'print CSV (a header line, then one line per group)' },
  url: { type: 'string', value: 'URL', help: 'the gateway, e.g. https://gatehouse.example:8443 (default: the configuration\'s listener)' },
  ca: { type: 'string', value: 'FILE', help: 'a CA certificate to trust (default: ca.crt beside tls.cert, if there)' },
  export: { type: 'boolean', help: 'print `export GATEHOUSE_TOKEN=…` for a shell to eval' }
}

/** Flags every command takes. */
const COMMON: FlagName[] = ['config', 'json', 'help']

export interface CommandSpec {
  /** `group sub`, or one word */
  name: string
  /** what follows the name in the synopsis */
  synopsis: string
  summary: string
  /** flags of its own, besides --config, --json and --help */
  flags: FlagName[]
  /** false for the commands that run without a configuration */
  needsConfig: boolean
}

const cmd = (name: string, synopsis: string, summary: string, flags: FlagName[] = [], needsConfig = true): CommandSpec =>
  ({ name, synopsis, summary, flags, needsConfig })

const COMMANDS: CommandSpec[] = [
  cmd('serve', '', 'run the gateway'),
  cmd('user add', 'NAME --role ROLE [--password-stdin [--temporary]]',
    'create a user; without --password-stdin prints a generated one-time password', ['role', 'password-stdin', 'temporary']),
  cmd('user list', '', 'list users: roles, status, source (local or oidc), MFA, last login, failed logins, lock'),
  cmd('user disable', 'NAME', 'disable a user and end its sessions'),
  cmd('user enable', 'NAME', 'enable a disabled user'),
  cmd('user delete', 'NAME', 'remove a person\'s account data (account, TOTP secret, sessions); audit events stay'),
  cmd('user set-role', 'NAME ROLE', 'give a user another role and end its sessions'),
  cmd('user reset-mfa', 'NAME', 'forget a user\'s TOTP; it enrolls again at its next login'),
  cmd('user unlock', 'NAME', 'lift a lockout'),
  cmd('user set-password', 'NAME --password-stdin [--temporary]', 'set a user\'s password and end its sessions',
    ['password-stdin', 'temporary']),
  cmd('key create', '--name NAME --role ROLE [--expires-in DURATION]', 'create an API key; it is printed once, only its hash is stored',
    ['name', 'role', 'expires-in']),
  cmd('key list', '', 'list API keys'),
  cmd('key revoke', 'ID', 'revoke an API key'),
  cmd('key rotate', 'ID [--grace DURATION]',
    'a new key with the same name, role and expiry policy, printed once; the old one works until the grace ends', ['grace']),
  cmd('usage report', '[--since 30d] [--by user|key|model|upstream|day] [--csv]', 'sum the token usage of proxied requests',
    ['since', 'by', 'csv']),
  cmd('usage quota', 'NAME', 'a user\'s or key\'s token use against each of its quotas (today and this month, UTC)'),
  cmd('audit verify', 'FILE...', 'check the audit hash chain and checkpoints (oldest file first)'),
  cmd('compliance check', '[--notify URL]', 'SOC 2 control checks of the configuration and the store (exit 3: not delivered to --notify)',
    ['notify']),
  cmd('scan record', '[FILE]', 'record npm audit --json output (stdin when FILE is absent) in compliance.scanDir'),
  cmd('config diff', 'OLD NEW', 'what a configuration change changes, and which compliance checks it flips', ['json'], false),
  cmd('evidence export', '--days N --out FILE [--force]', 'write the evidence bundle for auditors', ['days', 'out', 'force']),
  cmd('upstreams check', '', 'probe each configured Ollama host once: answers, version, model count (exit 1 when one does not)'),
  cmd('certs dev', '', 'write a development CA and server certificate where tls.cert and tls.key point'),
  cmd('login', '[--url URL] [--ca FILE] [--export]',
    'sign in (username, password, one-time code; asked on a terminal, else read from stdin) and print the access token',
    ['url', 'ca', 'export', 'config', 'json'], false),
  cmd('mfa qr', '', 'draw the otpauth URL read from standard input (or a login reply holding one) as a QR code', [], false),
  cmd('help', '[COMMAND]', 'show the help of a command', [], false)
]

const GROUPS = [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0] as string))]

const flagText = (f: FlagName) => `--${f}${FLAGS[f].value ? ` ${FLAGS[f].value as string}` : ''}`

/** `gatehouse user add NAME --role ROLE [--password-stdin]` */
export const usageOf = (c: CommandSpec): string => `gatehouse ${c.name}${c.synopsis ? ' ' + c.synopsis : ''}`

export function globalUsage (): string {
  const width = Math.max(...COMMANDS.map((c) => usageOf(c).length - 'gatehouse '.length))
  return [
    'usage: gatehouse <command> [--config PATH] [--json]',
    'commands:',
    ...COMMANDS.map((c) => `  ${usageOf(c).slice('gatehouse '.length).padEnd(width)}  ${c.summary}`),
    '`gatehouse <command> --help` or `gatehouse help <command>` shows a command\'s flags; `gatehouse --version` its version.'
  ].join('\n')
}

function flagTable (names: FlagName[]): string[] {
  const left = (f: FlagName) => `${FLAGS[f].short ? `-${FLAGS[f].short as string}, ` : ''}${flagText(f)}`
  const width = Math.max(...names.map((f) => left(f).length))
  return names.map((f) => `  ${left(f).padEnd(width)}  ${FLAGS[f].help}`)
}

function commandHelp (c: CommandSpec): string {
  const flags = c.needsConfig ? [...c.flags, ...COMMON] : [...c.flags, 'help' as const]
  return [`usage: ${usageOf(c)}`, c.summary, '', 'flags:', ...flagTable(flags)].join('\n')
}

function groupHelp (group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(group + ' '))
  const width = Math.max(...members.map((c) => usageOf(c).length))
  return [
    `usage: gatehouse ${group} <${members.map((c) => c.name.slice(group.length + 1)).join('|')}> ...`,
    ...members.map((c) => `  ${usageOf(c).padEnd(width)}  ${c.summary}`),
    `\`gatehouse ${group} <command> --help\` shows its flags.`
  ].join('\n')
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`, for "did you mean". */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number) => (d[i] as number[])[j] as number
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The candidate `word` most likely stands for: a close misspelling or an unambiguous beginning. */
export function closest (word: string, candidates: string[]): string | null {
  const w = word.toLowerCase()
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(w, c)
    if (d < bestDistance) { best = c; bestDistance = d }
  }
  if (best !== null && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return best
  const prefixed = w.length >= 2 ? candidates.filter((c) => c.startsWith(w)) : []
  return prefixed.length === 1 ? prefixed[0] as string : null
}

export interface ParsedArgs {
  command: string[]
  json: boolean
  role?: string
  name?: string
  passwordStdin: boolean
  temporary?: boolean
  expiresIn?: string
  days?: string
  out?: string
  force?: boolean
  /** compliance check: the webhook URL to post the report to */
  notify?: string
  grace?: string
  since?: string
  by?: string
  csv?: boolean
  config?: string
  /** login: the gateway's URL, a CA file to trust, print as a shell export */
  url?: string
  ca?: string
  export?: boolean
}

export type Parsed =
  | { kind: 'run', spec: CommandSpec, args: ParsedArgs }
  | { kind: 'help', text: string }
  | { kind: 'version' }
  /** bad usage: one line for stderr, exit 2 */
  | { kind: 'error', message: string }
  /** no command at all: the global usage on stderr, exit 2 */
  | { kind: 'usage' }

const findCommand = (name: string) => COMMANDS.find((c) => c.name === name)

function unknownCommand (words: string[]): string {
  const [group, sub] = words as [string, string | undefined]
  if (GROUPS.includes(group) && sub !== undefined) {
    const subs = COMMANDS.filter((c) => c.name.startsWith(group + ' ')).map((c) => c.name.slice(group.length + 1))
    const guess = closest(sub, subs)
    return `unknown command "${group} ${sub}"${guess ? `; did you mean "${group} ${guess}"?` : ''} (see gatehouse ${group} --help)`
  }
  const guess = closest(group, [...GROUPS, ...COMMANDS.filter((c) => !c.name.includes(' ')).map((c) => c.name)])
  return `unknown command "${group}"${guess ? `; did you mean "${guess}"?` : ''} (see gatehouse --help)`
}

/** Resolves the command named by the leading positionals; `rest` are its own positionals. */
function resolve (positionals: string[]): { spec: CommandSpec } | { group: string } | { error: string } | null {
  const [first, second] = positionals
  if (first === undefined) return null
  const single = findCommand(first)
  if (single && !first.includes(' ')) return { spec: single }
  if (!GROUPS.includes(first)) return { error: unknownCommand([first]) }
  if (second === undefined) return { group: first }
  const spec = findCommand(`${first} ${second}`)
  return spec ? { spec } : { error: unknownCommand([first, second]) }
}

const ALL_OPTIONS = Object.fromEntries(
  Object.entries(FLAGS).map(([k, f]) => [k, f.short ? { type: f.type, short: f.short } : { type: f.type }])
) as
  Record<FlagName, { type: 'string' | 'boolean', short?: string }>

export function parseCommandLine (argv: string[]): Parsed {
  const { tokens } = parseArgs({ args: argv, options: ALL_OPTIONS, allowPositionals: true, strict: false, tokens: true })
  const positionals = tokens.filter((t) => t.kind === 'positional').map((t) => t.value)
  const options = tokens.filter((t) => t.kind === 'option')
  // a switch given a value is not set: checkOptions reports it
  const has = (name: string) => options.some((t) => t.name === name && t.value === undefined)

  const target = resolve(positionals)
  const spec = target && 'spec' in target ? target.spec : null
  // --help and --version win over every other complaint
  if (has('help')) {
    if (target === null) return { kind: 'help', text: globalUsage() }
    if ('error' in target) return { kind: 'error', message: target.error }
    if ('group' in target) return { kind: 'help', text: groupHelp(target.group) }
    if (target.spec.name === 'help') return helpFor(positionals.slice(1))
    return { kind: 'help', text: commandHelp(target.spec) }
  }
  if (has('version') && (spec === null || spec.name === 'help')) return { kind: 'version' }
  if (target === null) return options.length > 0 ? checkOptions(options, null) ?? { kind: 'usage' } : { kind: 'usage' }
  if ('error' in target) return { kind: 'error', message: target.error }
  if ('group' in target) {
    const sub = COMMANDS.filter((c) => c.name.startsWith(target.group + ' ')).map((c) => c.name.slice(target.group.length + 1))
    return { kind: 'error', message: `"${target.group}" needs a command: ${sub.join(', ')} (see gatehouse ${target.group} --help)` }
  }
  if (target.spec.name === 'help') return helpFor(positionals.slice(1))

  const problem = checkOptions(options, target.spec)
  if (problem) return problem
  const value = (name: FlagName): string | undefined => {
    const t = options.filter((o) => o.name === name).at(-1)
    return t?.value
  }
  return {
    kind: 'run',
    spec: target.spec,
    args: {
      command: positionals,
      json: has('json'),
      role: value('role'),
      name: value('name'),
      passwordStdin: has('password-stdin'),
      temporary: has('temporary'),
      expiresIn: value('expires-in'),
      days: value('days'),
      out: value('out'),
      force: has('force'),
      notify: value('notify'),
      grace: value('grace'),
      since: value('since'),
      by: value('by'),
      csv: has('csv'),
      config: value('config'),
      url: value('url'),
      ca: value('ca'),
      export: has('export')
    }
  }
}

function helpFor (words: string[]): Parsed {
  const target = resolve(words)
  if (target === null) return { kind: 'help', text: globalUsage() }
  if ('error' in target) return { kind: 'error', message: target.error }
  if ('group' in target) return { kind: 'help', text: groupHelp(target.group) }
  return { kind: 'help', text: commandHelp(target.spec) }
}

type OptionToken = { name: string, rawName: string, value?: string, inlineValue?: boolean }

/** The first flag problem as one line with the command's usage, or null when the flags are fine. */
function checkOptions (options: OptionToken[], spec: CommandSpec | null): Parsed | null {
  const allowed: FlagName[] = spec === null ? ['help', 'version'] : spec.needsConfig ? [...spec.flags, ...COMMON] : [...spec.flags, 'help']
  const usage = spec === null ? 'gatehouse <command> [--config PATH] [--json]' : usageOf(spec)
  const fail = (what: string): Parsed => ({ kind: 'error', message: `${what}; usage: ${usage}` })
  for (const t of options) {
    const flag = t.name as FlagName
    if (!allowed.includes(flag)) {
      const known = Object.hasOwn(FLAGS, t.name)
      const guess = closest(t.name, allowed)
      const where = spec === null ? '' : ` for "${spec.name}"`
      const what = known ? `${t.rawName} is not a flag` : `unknown flag ${t.rawName}`
      return fail(`${what}${where}${guess ? ` (did you mean --${guess}?)` : ''}`)
    }
    const f = FLAGS[flag]
    if (f.type === 'boolean' && t.value !== undefined) return fail(`${t.rawName} takes no value`)
    if (f.type === 'string') {
      if (t.value === undefined || t.value === '') return fail(`${t.rawName} needs a value (${flagText(flag)})`)
      if (t.inlineValue === false && t.value.startsWith('-')) {
        return fail(`${t.rawName} needs a value (${flagText(flag)}), not the flag ${t.value}; ` +
          `write ${t.rawName}=${t.value} if that is the value`)
      }
    }
  }
  return null
}
