// `gatehouse config diff OLD NEW`: what a configuration change changes, key path by key path with
// credentials redacted, and which config-only compliance checks it would flip. Pure: both
// configurations are loaded and validated by the caller.
import type { GatehouseConfig } from '../config/schema.js'
import { configHash, redactedConfig } from '../config/load.js'
import { configOnlyChecks, type Control, type Verdict } from './compliance.js'

/** `old` / `new` are left out where the key did not exist (null is a value of its own) */
export interface KeyChange { path: string, old?: unknown, new?: unknown }
export interface CheckFlip { id: string, control: Control, title: string, old: Verdict, new: Verdict, detail: string }

export interface ConfigDiff {
  old: { file: string | null, hash: string }
  new: { file: string | null, hash: string }
  changes: KeyChange[]
  checks: CheckFlip[]
  /** a check that did not fail before fails with the new configuration */
  newlyFailing: boolean
}

/** Shown instead of any value whose key names a credential (URL passwords are already redacted). */
export const REDACTED = '(redacted)'
const SECRET_KEY = /(password|secret|token|credential|apikey|api_key)/i
const ABSENT = Symbol('absent')

function flatten (value: unknown, path: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
    if (entries.length === 0) { out.set(path, Array.isArray(value) ? [] : {}); return }
    for (const [k, v] of entries) flatten(v, path === '' ? k : `${path}.${k}`, out)
    return
  }
  out.set(path, value)
}

const shown = (path: string, v: unknown): unknown => (v === ABSENT ? v : SECRET_KEY.test(path) ? REDACTED : v)

export function diffConfigs (before: GatehouseConfig, after: GatehouseConfig): ConfigDiff {
  const a = new Map<string, unknown>()
  const b = new Map<string, unknown>()
  const strip = (c: GatehouseConfig) => { const { configFile: _file, ...rest } = redactedConfig(c); return rest }
  flatten(strip(before), '', a)
  flatten(strip(after), '', b)
  const changes: KeyChange[] = []
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.has(path) ? a.get(path) : ABSENT
    const y = b.has(path) ? b.get(path) : ABSENT
    if (JSON.stringify(x) === JSON.stringify(y) && (x === ABSENT) === (y === ABSENT)) continue
    const o = shown(path, x)
    const n = shown(path, y)
    changes.push({ path, ...(o === ABSENT ? {} : { old: o }), ...(n === ABSENT ? {} : { new: n }) })
  }
  const oldChecks = new Map(configOnlyChecks(before).map((c) => [c.id, c]))
  const checks: CheckFlip[] = []
  for (const c of configOnlyChecks(after)) {
    const prev = oldChecks.get(c.id)
    if (prev && prev.verdict !== c.verdict) {
      checks.push({ id: c.id, control: c.control, title: c.title, old: prev.verdict, new: c.verdict, detail: c.detail })
    }
  }
  return {
    old: { file: before.configFile, hash: configHash(before) },
    new: { file: after.configFile, hash: configHash(after) },
    changes,
    checks,
    newlyFailing: checks.some((c) => c.new === 'fail')
  }
}

export function renderConfigDiff (d: ConfigDiff): string {
  const v = (c: KeyChange, side: 'old' | 'new') => (side in c ? JSON.stringify(c[side]) : '(absent)')
  const lines = [
    `config diff ${d.old.file ?? '(defaults)'} → ${d.new.file ?? '(defaults)'}`,
    `sha256 ${d.old.hash} → ${d.new.hash}`,
    '',
    d.changes.length === 0 ? 'no key changes' : `changed keys (${d.changes.length}):`,
    ...d.changes.map((c) => `  ${c.path}: ${v(c, 'old')} → ${v(c, 'new')}`),
    '',
    d.checks.length === 0 ? 'no compliance check changes its verdict' : `compliance checks that change (${d.checks.length}):`,
    ...d.checks.map((c) => `  ${c.old.toUpperCase()} → ${c.new.toUpperCase()}  ${c.control}  ${c.id}  ${c.title}\n      now: ${c.detail}`)
  ]
  return lines.join('\n')
}
