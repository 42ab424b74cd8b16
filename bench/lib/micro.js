// Micro-benchmarks: every bench/micro/*.bench.mjs runs in its own process with `--json` and must
// print one JSON object as the last line of its stdout. Its numbers are kept as they come (raw)
// plus a flat summary of the numeric fields for the table.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnTracked, exited, stop } from './children.js'

function flatten (obj, prefix = '', out = {}, depth = 0) {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) flatten(v, key, out, depth + 1)
  }
  return out
}

function lastJson (text) {
  const lines = text.trim().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    try { const v = JSON.parse(lines[i]); if (v && typeof v === 'object') return v } catch { /* not JSON */ }
  }
  return null
}

/** fallback for a bench that prints only human lines: "label ... 12.3 MB/s" → { "label (MB/s)": 12.3 } */
function numbersFromText (text) {
  const summary = {}
  for (const l of text.split('\n')) {
    const m = /^\s*(.*?\S)[\s:=]+(\d+(?:\.\d+)?)\s*(MB\/s|GB\/s|[µu]s|ns|ms)\b/.exec(l)
    if (m) summary[`${m[1].replace(/[:\s]+$/, '')} (${m[3]})`] = Number(m[2])
  }
  return Object.keys(summary).length ? { summary, parsedFromText: true } : null
}

export async function runMicro ({ root, log, timeoutMs = 90_000 }) {
  const dir = join(root, 'bench/micro')
  let files
  try { files = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).sort() } catch { return {} }
  const out = {}
  for (const f of files) {
    const name = f.replace(/\.bench\.mjs$/, '')
    log(`micro: ${name}`)
    const child = spawnTracked(`micro ${name}`, process.execPath, [join(dir, f), '--json'], { cwd: root })
    let stdout = ''
    child.stdout.on('data', (d) => { stdout += d })
    const timer = setTimeout(() => { stop(child, 1000) }, timeoutMs)
    await exited(child)
    clearTimeout(timer)
    const parsed = lastJson(stdout) ?? numbersFromText(stdout)
    if (child.exitCode !== 0 || !parsed) {
      out[name] = { error: child.exitCode === 0 ? 'no JSON line on stdout' : `exit ${child.exitCode ?? child.signalCode}: ${child.tail.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` }
      log(`  micro ${name} failed: ${out[name].error}`)
      continue
    }
    out[name] = { summary: parsed.summary && typeof parsed.summary === 'object' ? flatten(parsed.summary) : flatten(parsed), raw: parsed }
  }
  return out
}
