// Summarizes a V8 CPU profile (node --cpu-prof) into the functions and modules that take the most
// self time: the "profile" a missed target is explained with.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

function where (url, root) {
  if (!url) return '(native/V8)'
  const p = url.replace(/^file:\/\//, '')
  if (p.startsWith('node:')) return p
  const nm = p.lastIndexOf('/node_modules/')
  if (nm !== -1) return p.slice(nm + 14).split('/').slice(0, p.slice(nm + 14).startsWith('@') ? 2 : 1).join('/')
  return root ? relative(root, p) : p
}

export function summarizeProfiles (dir, outFile, root = process.cwd(), top = 30) {
  let files
  try { files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) } catch { return null }
  if (files.length === 0) return null
  // the biggest profile is the long-running process that carried the load
  const file = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]
  const prof = JSON.parse(readFileSync(file, 'utf8'))
  const totalUs = prof.endTime - prof.startTime
  const samples = prof.samples.length || 1
  const usPerSample = totalUs / samples
  const byFn = new Map()
  const byModule = new Map()
  let idle = 0
  for (const n of prof.nodes) {
    const cf = n.callFrame
    const self = (n.hitCount ?? 0) * usPerSample
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') { if (cf.functionName === '(idle)') idle += self; continue }
    const mod = where(cf.url, root)
    const key = `${cf.functionName || '(anonymous)'}  ${mod}${cf.url ? `:${cf.lineNumber + 1}` : ''}`
    byFn.set(key, (byFn.get(key) ?? 0) + self)
    byModule.set(mod, (byModule.get(mod) ?? 0) + self)
  }
  const busy = [...byFn.values()].reduce((s, v) => s + v, 0)
  const fmt = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, v]) => `${(v / 1000).toFixed(0).padStart(8)} ms ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`).join('\n')
  const text = `CPU profile ${relative(root, file)}\nwall ${(totalUs / 1e6).toFixed(1)} s, busy (non-idle JS+native) ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s\n\n` +
    `by module (self time):\n${fmt(byModule)}\n\nby function (self time):\n${fmt(byFn)}\n`
  writeFileSync(outFile, text)
  const topModules = [...byModule.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => ({ module: k, share: Number((v / busy).toFixed(3)) }))
  return { file, summaryFile: outFile, busySeconds: Number((busy / 1e6).toFixed(2)), topModules }
}
