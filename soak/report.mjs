// latest.md from the soak's result object: the figures, refusals and errors, one row per fault,
// the shutdown, the checks and the samples.

const table = (o) => Object.entries(o).map(([k, v]) => `| ${k} | ${v} |`).join('\n') || '| — | 0 |'
const counts = (o) => Object.entries(o).map(([k, v]) => `${v} × ${k}`).join('; ') || 'none'
const secs = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`)

function faultRow (f) {
  const steps = f.steps.map((s) => `t+${secs(s.t)}: ${s.what}${s.error ? ` (FAILED: ${s.error})` : ''}`).join('<br>')
  const seen = (o) => [
    `${o.served} served`,
    `refused: ${counts(o.refused)}`,
    `streams ended with an error line: ${counts(o.streamErrorLines)}`,
    `client errors: ${counts(o.clientErrors)}`
  ].join('<br>')
  // a fault of more than two steps is shown step by step
  const observed = f.phases.length > 2 ? f.phases.map((ph) => `*after "${ph.after}":*<br>${seen(ph)}`).join('<br>') : seen(f)
  const recovery = f.recoveryMs === null
    ? 'NOT recovered'
    : `${secs(f.recoveryMs)} after the restore (${f.recoveredMeans}); last 5xx ${f.lastServerErrorAfterRestoreMs === null ? 'before the restore' : `${secs(f.lastServerErrorAfterRestoreMs)} after it`}`
  return `| ${f.title} | ${steps} | ${observed} | ${recovery} |`
}

export function renderMarkdown (r) {
  const p = r.parameters
  const a = r.audit
  const sd = r.shutdown
  return `# Soak result — ${r.verdict}

${r.label}

Parameters: ${p.minutes} min, ${p.streams} concurrent streams, ${p.smallClients} small-request clients, 3 fake Ollama hosts, ` +
`${p.cpus} CPUs, Node ${p.node}; load shedding ${p.shedMs ? `at ${p.shedMs} ms of event-loop delay (limits.maxEventLoopDelayMs)` : 'off'}; private PostgreSQL (store), Redis (shared counters), syslog receiver, audit file on a tmpfs; ` +
`finished ${r.finishedAt}; load average at the end ${p.loadAverageAtEnd.join(' / ')} (1 / 5 / 15 min).
The RSS slope and event-loop figures are meant for the full run on an otherwise idle machine: a
run of a minute or two is mostly warm-up, and on a shared machine the event loop waits for CPU.
Produced by \`npm run soak -- --minutes ${p.minutes} --streams ${p.streams}\`. The full figures come from \`npm run soak\` (10 min, 1,000 streams).

| figure | value |
|---|---|
| requests sent | ${r.sent} |
| replies received | ${r.replies} |
| completed (2xx, streams ended with done) | ${r.completed} |
| streams: completed / ended with an error line / unterminated | ${r.streams.completed} / ${r.streams.errorLine} / ${r.streams.unterminated} |
| audit: decisions (replies) / events / replies without own event / accounted by repeat_count | ${a.decisions} / ${a.events} / ${a.repliesWithoutOwnEvent} / ${a.accountedByRepeatCount} |
| audit: replies with several events / of which a later event records the audit refusal | ${a.repliesWithSeveralEvents + a.supersededByAuditRefusal} / ${a.supersededByAuditRefusal} |
| audit: events whose status is not the one their client got | ${a.statusMismatches} |
| lost audit events | ${r.lostAuditEvents} |
| audit verify | ${a.verify} (${a.files} file(s)) |
| events in the file that never reached the syslog receiver | ${a.syslogMissing} |
| unhandled exceptions | ${r.unhandledExceptions} |
| replies with PII unmasked | ${r.unmaskedReplies} |
| RSS first / last / max (MiB) | ${r.rss.firstMiB} / ${r.rss.lastMiB} / ${r.rss.maxMiB} |
| RSS slope, second half (MiB/min) | ${r.rss.secondHalfSlopeMiBPerMin} |
| event-loop delay p99, max / median of the 10 s samples under load (ms) | ${r.eventLoopDelayP99Ms.max} / ${r.eventLoopDelayP99Ms.median} |
| open file descriptors before load / after it (client connections closed) / of which pooled upstream connections | ${r.fds.before} / ${r.fds.after} / ${r.fds.upstreamKeepAlive} |

Refused, by status and reason:

| reason | count |
|---|---|
${table(r.refused)}

Client-side errors, by kind:

| kind | count |
|---|---|
${table(r.errors)}

## Faults

Each fault's window runs from its first step to the next fault's first step, so it includes the
recovery. Recovery is measured from the step that gives the service back.

| fault | steps (time from the start of the load) | observed in its window | recovery |
|---|---|---|---|
${r.faults.map(faultRow).join('\n')}

## SIGTERM with streams open

${sd.streams} streams opened after the load, with tokens paced so each lasts about 8 s; SIGTERM when
${sd.openAtSignal} were open. Ended with their done line: ${sd.done} (otherwise: ${counts(sd.other)}).
A new connection while draining got: ${sd.newConnection ?? 'a 200 (never refused)'}${sd.newConnectionRefusedAfterMs === null ? '' : ` (${sd.newConnectionRefusedAfterMs} ms after the signal)`}.
Exit ${r.exit.code}${r.exit.signal ? ` (signal ${r.exit.signal})` : ''} ${secs(sd.drainMs)} after the signal (drain deadline 30 s); last event seq ${a.lastSeq},
last checkpoint seq ${a.lastCheckpointSeq}.

## Checks

${Object.entries(r.checks).map(([name, ok]) => `- ${ok ? 'pass' : 'FAIL'}${r.notJudged.includes(name) ? ' (not judged in a short run)' : ''}: ${name}`).join('\n')}

## Samples

Every 10 s; RSS, V8 heap used, open fds, event-loop delay p99 over the last 10 s; the gateway's CPU
over the last 10 s as a share of one core; the whole machine's busy share of its cores, and of it the
share the hypervisor gave to other guests (steal: the VM waited for its CPUs):

| t (s) | RSS (MiB) | heap used (MiB) | fds | event-loop p99 (ms) | gateway CPU (% of a core) | machine busy (%) | steal (%) |
|---:|---:|---:|---:|---:|---:|---:|---:|
${r.samples.map((s) => `| ${s.t} | ${s.rssMiB} | ${s.heapUsedMiB} | ${s.fds} | ${s.eventLoopP99Ms} | ${s.gatewayCpuPct ?? '–'} | ${s.machineBusyPct ?? '–'} | ${s.machineStealPct ?? '–'} |`).join('\n')}
`
}
