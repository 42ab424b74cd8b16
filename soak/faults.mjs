// The soak's fault schedule and what it observed of each fault. Each fault is a list of steps at
// fractions of the run, executed in order by one loop (a step that takes a while, such as pg_ctl,
// delays the next instead of overlapping it). They all fall in the first half: the second half,
// where the RSS slope is measured, shows whether the gateway settles after them. The step marked `restore` is the one that gives the
// service back; from then on the fault's probe is polled until it says the gateway recovered.

/**
 * @param {object} o
 * @param {{ name: string, kill: () => Promise<void>, start: () => Promise<void>, stats: { streams: number } }} o.victim
 * @param {{ stop: () => Promise<void>, start: () => Promise<void> }} o.pg
 * @param {{ stop: () => Promise<void>, start: () => Promise<void> }} o.redis
 * @param {{ stop: () => Promise<void>, start: () => Promise<void>, firstFrameAfterStart: () => number | null }} o.syslog
 * @param {{ fill: () => number, free: () => void }} o.auditFs
 * @param {(since: number, kind?: string) => boolean} o.servedSince a 2xx reply (of that credential kind) to a request sent at or after `since`
 * @param {() => Promise<boolean>} o.fileSinkUp the gateway reports its file sink writable
 */
export function faultPlan ({ victim, pg, redis, syslog, auditFs, servedSince, fileSinkUp }) {
  let hostStreams = 0
  return [
    {
      id: 'ollama-host',
      title: `Ollama host ${victim.name} killed, then restarted`,
      steps: [
        { at: 0.04, what: 'killed: every connection reset', run: () => victim.kill() },
        { at: 0.09, what: 'restarted on its port', run: async () => { await victim.start(); hostStreams = victim.stats.streams }, restore: true }
      ],
      // its health checks count for nothing here: a stream routed to it again does
      recovered: async () => victim.stats.streams > hostStreams,
      recoveredMeans: 'the gateway routes streams to the host again'
    },
    {
      id: 'postgres',
      title: 'PostgreSQL (store.url) restarted',
      steps: [
        { at: 0.13, what: 'stopped (pg_ctl -m fast)', run: () => pg.stop() },
        { at: 0.18, what: 'started', run: () => pg.start(), restore: true }
      ],
      recovered: async (since) => servedSince(since, 'api_key') && servedSince(since, 'session'),
      recoveredMeans: 'an API key and a session are both served again'
    },
    {
      id: 'redis',
      title: 'Redis (redis.url) restarted',
      steps: [
        { at: 0.22, what: 'killed (SIGKILL)', run: () => redis.stop() },
        { at: 0.27, what: 'started, empty (no persistence)', run: () => redis.start(), restore: true }
      ],
      recovered: async (since) => servedSince(since),
      recoveredMeans: 'requests are served again'
    },
    {
      id: 'syslog',
      title: 'syslog server stopped, then started (the file sink stays up)',
      steps: [
        { at: 0.31, what: 'stopped: connections reset', run: () => syslog.stop() },
        { at: 0.35, what: 'started', run: () => syslog.start(), restore: true }
      ],
      recovered: async () => syslog.firstFrameAfterStart() !== null,
      recoveredMeans: 'the gateway reconnected and sent a frame'
    },
    {
      id: 'audit-disk',
      title: 'audit file system full, then freed',
      steps: [
        { at: 0.39, what: 'tmpfs filled (syslog still up)', run: () => { auditFs.fill() } },
        { at: 0.42, what: 'syslog stopped too: no sink can write', run: () => syslog.stop() },
        { at: 0.46, what: 'tmpfs freed', run: () => auditFs.free(), restore: true },
        { at: 0.49, what: 'syslog started', run: () => syslog.start() }
      ],
      recovered: async (since) => servedSince(since) && await fileSinkUp(),
      recoveredMeans: 'the file sink is writable again and requests are served'
    }
  ]
}

/**
 * Runs the plan's steps in order at their times, then polls each fault's probe after its restore
 * step (every 100 ms, for at most `probeMs`). Records, per step, when it ran (ms from t0) and any
 * error; per fault, when the probe first said recovered (ms after the restore step), or null.
 */
export async function runFaults (plan, { t0, durationMs, probeMs = 60_000, log, aborted = () => false }) {
  const steps = plan.flatMap((f) => f.steps.map((s) => ({ fault: f, step: s }))).sort((a, b) => a.step.at - b.step.at)
  const probes = []
  for (const { fault, step } of steps) {
    if (aborted()) break
    while (Date.now() < t0 + step.at * durationMs && !aborted()) await new Promise((resolve) => setTimeout(resolve, 200))
    if (aborted()) break
    step.t = Date.now() - t0
    try { await step.run() } catch (err) { step.error = String(err?.message ?? err).slice(0, 300) }
    log(`${fault.id}: ${step.what}${step.error ? ` (failed: ${step.error})` : ''}`)
    if (step.restore) probes.push(probe(fault, t0 + step.t, probeMs, log, aborted))
  }
  await Promise.all(probes)
}

async function probe (fault, since, probeMs, log, aborted) {
  const end = since + probeMs
  fault.recoveryMs = null
  while (Date.now() < end && !aborted()) {
    let ok = false
    try { ok = await fault.recovered(since) } catch { /* not yet */ }
    if (ok) {
      fault.recoveryMs = Date.now() - since
      log(`${fault.id}: recovered ${fault.recoveryMs} ms after the restore (${fault.recoveredMeans})`)
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  log(`${fault.id}: NOT recovered ${probeMs} ms after the restore`)
}

/**
 * What the clients saw while each fault lasted: its window runs from its first step to the next
 * fault's first step (the last one's to the end of the load), so recovery falls inside it.
 * `replies` are { end, status, reason, stream } records (ms from t0).
 */
export function observe (plan, replies, clientErrors, loadEndMs) {
  const starts = plan.map((f) => f.steps[0].t ?? Infinity)
  return plan.map((f, i) => {
    const from = starts[i]
    const to = starts[i + 1] ?? loadEndMs
    const restoreAt = f.steps.find((s) => s.restore)?.t ?? from
    const window = count(replies, clientErrors, from, to)
    let lastServerError = null
    for (const r of replies) {
      if (r.status >= 500 && r.end >= restoreAt && r.end < to) lastServerError = Math.max(lastServerError ?? 0, r.end - restoreAt)
    }
    return {
      fault: f.id,
      title: f.title,
      steps: f.steps.map((s) => ({ t: s.t ?? null, what: s.what, ...(s.error ? { error: s.error } : {}) })),
      window: { fromMs: from, toMs: to },
      ...window,
      // what each step led to, up to the next step (the last one: to the end of the window)
      phases: f.steps.map((s, k) => ({ after: s.what, ...count(replies, clientErrors, s.t ?? Infinity, f.steps[k + 1]?.t ?? to) })),
      recoveryMs: f.recoveryMs ?? null,
      recoveredMeans: f.recoveredMeans,
      lastServerErrorAfterRestoreMs: lastServerError
    }
  })
}

/** replies served and refused (by reason), streams ended with an error line (by error), client errors (by kind), ending in [from, to) */
function count (replies, clientErrors, from, to) {
  const bump = (o, k) => { o[k] = (o[k] ?? 0) + 1 }
  const refused = {}
  const streamErrorLines = {}
  const errors = {}
  let served = 0
  for (const r of replies) {
    if (!(r.end >= from && r.end < to)) continue
    if (r.status >= 400) bump(refused, r.reason)
    else {
      served++
      if (r.stream?.startsWith('error:')) bump(streamErrorLines, r.stream.slice(6))
    }
  }
  for (const e of clientErrors) if (e.t >= from && e.t < to) bump(errors, e.kind)
  return { served, refused, streamErrorLines, clientErrors: errors }
}
