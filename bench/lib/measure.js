// One measured phase: fork the load generator, sample the proxy's (and the upstream's) CPU time at
// the window marks it sends, and hand back its result with the CPU used inside the window.
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { forkTracked, stop } from './children.js'

const LOAD = fileURLToPath(new URL('./load.js', import.meta.url))

/**
 * @param job     the load job ({cmd, origin, ca, credentials, ...})
 * @param procs   { proxy?: tree, upstream: tree } from proc.js
 * @param hooks   { onOpened?: async () => void } for the held-streams job
 */
export function measure (job, procs, hooks = {}) {
  return new Promise((resolve, reject) => {
    const child = forkTracked('load', LOAD)
    const sample = () => ({
      t: performance.now(),
      proxyCpu: procs.proxy ? procs.proxy.cpuSeconds() : null,
      proxySplit: procs.proxy ? procs.proxy.cpuSplit() : null,
      upstreamCpu: procs.upstream.cpuSeconds(),
      proxyRss: procs.proxy ? procs.proxy.rssKiB() : null
    })
    let start = null
    let end = null
    let opened = null
    let settled = false
    const finish = (err, value) => {
      if (settled) return
      settled = true
      clearTimeout(guard)
      stop(child, 1000).then(() => (err ? reject(err) : resolve(value)))
    }
    const guard = setTimeout(() => finish(new Error(`load job ${job.cmd} timed out`)), (job.timeoutMs ?? 120_000) + 5000)
    child.on('message', (msg) => {
      if (msg.type === 'mark' && msg.name === 'start') start = sample()
      else if (msg.type === 'mark' && msg.name === 'end') end = sample()
      else if (msg.type === 'opened') {
        Promise.resolve(hooks.onOpened?.(msg)).then((v) => { opened = v }, (err) => finish(err))
      } else if (msg.type === 'result') {
        if (msg.error) return finish(new Error(`load job ${job.cmd}: ${msg.error}`))
        if (!start || !end) return finish(new Error(`load job ${job.cmd} sent no window marks`))
        finish(null, {
          result: msg.result,
          opened,
          windowSec: (end.t - start.t) / 1000,
          proxyCpuSec: start.proxyCpu === null ? null : end.proxyCpu - start.proxyCpu,
          proxySysSec: start.proxySplit === null ? null : end.proxySplit[1] - start.proxySplit[1],
          upstreamCpuSec: end.upstreamCpu - start.upstreamCpu,
          proxyRssStartKiB: start.proxyRss
        })
      }
    })
    child.on('exit', (code) => { if (!settled) finish(new Error(`load generator exited (${code}) without a result: ${child.tail.slice(-500)}`)) })
    child.send(job)
  })
}
