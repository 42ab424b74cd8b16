// CPU time and resident memory of a process tree from /proc (Linux): immune to other load on the
// machine, unlike wall-clock throughput.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticks = null
/** clock ticks per second (USER_HZ), usually 100 */
function clockTicks () {
  if (ticks === null) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { ticks = 100 }
  }
  return ticks
}

function statFields (pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // fields after "(comm)": state is field 3; comm may contain spaces or parentheses
  return s.slice(s.lastIndexOf(')') + 2).split(' ')
}

/** utime+stime of one process in seconds (all its threads: GC, libuv pool, worker threads) */
function cpuSeconds (pid) {
  const f = statFields(pid)
  return (Number(f[11]) + Number(f[12])) / clockTicks()
}

/** [utime, stime] of one process in seconds */
function cpuSplit (pid) {
  const f = statFields(pid)
  return [Number(f[11]) / clockTicks(), Number(f[12]) / clockTicks()]
}

/** direct children of pid (e.g. nginx workers of the master) */
function childrenOf (pid) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try { if (Number(statFields(name)[1]) === pid) out.push(Number(name)) } catch { /* gone */ }
  }
  return out
}

/** VmRSS in KiB */
function rssKiB (pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

/**
 * The whole machine's CPU time since boot, in clock ticks, from /proc/stat's first line: all of it
 * (user … steal; guest time is already in user), the busy part (all but idle and iowait), and the
 * part the hypervisor gave to other guests (steal). Shares come from the difference of two readings.
 */
export function machineCpuTicks () {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - f[3] - f[4], steal: f[7], total }
}

/** a process and its children, sampled together */
export function tree (pid) {
  const pids = () => [pid, ...childrenOf(pid)]
  return {
    pids,
    cpuSeconds: () => pids().reduce((s, p) => { try { return s + cpuSeconds(p) } catch { return s } }, 0),
    /** [user, system] seconds, summed over the tree */
    cpuSplit: () => pids().reduce((s, p) => { try { const [u, k] = cpuSplit(p); return [s[0] + u, s[1] + k] } catch { return s } }, [0, 0]),
    rssKiB: () => pids().reduce((s, p) => { try { return s + rssKiB(p) } catch { return s } }, 0)
  }
}

/** this process's soft limit on open files, from /proc/self/limits */
function openFileLimit () {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1])
}

function hardOpenFileLimit () {
  const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  return !m || m[1] === 'unlimited' ? 1_048_576 : Number(m[1])
}

/**
 * Raises this process's open-file limit (soft and hard) to `want` with util-linux `prlimit`, so
 * the proxies the bench starts afterwards inherit it: 10,000 held streams are 20,000 sockets in a
 * proxy. Needs root (or CAP_SYS_RESOURCE) above the hard limit; returns the limit now in force.
 */
export function raiseOpenFileLimit (want) {
  const before = openFileLimit()
  if (before >= want) return { limit: before, raisedFrom: null }
  const set = (n) => { try { execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:${n}`], { stdio: 'ignore' }); return true } catch { return false } }
  // above the hard limit needs privilege; up to it, none: the soft limit rises as far as it may
  if (!set(want)) set(hardOpenFileLimit())
  const after = openFileLimit()
  return { limit: after, raisedFrom: after > before ? before : null }
}
