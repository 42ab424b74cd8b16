// The metrics registry: every documented metric is exposed with its labels, values follow
// the helper calls, registries are per instance (no global state), and client-chosen strings
// cannot explode label cardinality.
import { describe, expect, it } from 'vitest'
import { register as globalRegistry } from 'prom-client'
import { createMetrics, foldModelLabels } from '../../../src/ops/metrics.js'

const value = async (m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
  const metric = m.registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const data = await metric.get()
  const hit = data.values.find((v) => Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x) &&
    (!('metricName' in v) || v.metricName === name || v.metricName === undefined))
  return hit?.value
}

describe('createMetrics', () => {
  it('exposes every operational metric by name', async () => {
    const m = createMetrics({ defaultMetrics: false })
    const text = await m.render()
    for (const name of [
      'gatehouse_http_requests_total', 'gatehouse_http_request_duration_seconds', 'gatehouse_time_to_first_token_seconds',
      'gatehouse_tokens_total', 'gatehouse_active_streams', 'gatehouse_auth_failures_total', 'gatehouse_lockouts_total',
      'gatehouse_masked_entities_total', 'gatehouse_upstream_errors_total', 'gatehouse_audit_sink_errors_total',
      'gatehouse_audit_queue_depth', 'gatehouse_audit_events_dropped_total', 'gatehouse_rate_limited_total'
    ]) expect(text, name).toContain(`# TYPE ${name} `)
    expect(m.contentType).toMatch(/^text\/plain/)
  })

  it('counts requests by route, model, status and role, and observes their duration', async () => {
    const m = createMetrics({ defaultMetrics: false })
    m.learnModel('llama3.2:latest')
    m.observeRequest({ route: 'POST /api/chat', model: 'llama3.2:latest', status: 200, role: 'user', durationSeconds: 0.2 })
    m.observeRequest({ route: 'POST /api/chat', model: 'llama3.2:latest', status: 200, role: 'user', durationSeconds: 0.4 })
    m.observeRequest({ route: 'POST /api/chat', model: null, status: 403, role: 'monitor', durationSeconds: 0.01 })
    expect(await value(m, 'gatehouse_http_requests_total', { route: 'POST /api/chat', model: 'llama3.2:latest', status: '200', role: 'user' })).toBe(2)
    expect(await value(m, 'gatehouse_http_requests_total', { status: '403', role: 'monitor', model: '' })).toBe(1)
    const text = await m.render()
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{route="POST \/api\/chat",status="200"\} 2/)
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_sum\{route="POST \/api\/chat",status="200"\} 0\.6/)
  })

  it('tracks tokens, TTFT, streams, auth failures, lockouts, masking, upstream errors and rate limits', async () => {
    const m = createMetrics({ defaultMetrics: false })
    m.learnModel('m:latest')
    m.tokens('m:latest', 10, 32)
    m.tokens('m:latest', null, 8)
    m.observeTtft('POST /api/chat', 'm:latest', 0.3)
    m.streamOpened(); m.streamOpened(); m.streamClosed()
    m.authFailure('bad_password'); m.authFailure('bad_password'); m.authFailure('expired')
    m.lockout()
    m.masked({ email: 2, ssn: 1 }); m.masked({ email: 1 })
    m.upstreamError('timeout')
    m.rateLimited('streams')
    expect(await value(m, 'gatehouse_tokens_total', { model: 'm:latest', direction: 'input' })).toBe(10)
    expect(await value(m, 'gatehouse_tokens_total', { model: 'm:latest', direction: 'output' })).toBe(40)
    expect(await value(m, 'gatehouse_active_streams')).toBe(1)
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'bad_password' })).toBe(2)
    expect(await value(m, 'gatehouse_lockouts_total')).toBe(1)
    expect(await value(m, 'gatehouse_masked_entities_total', { type: 'email' })).toBe(3)
    expect(await value(m, 'gatehouse_upstream_errors_total', { kind: 'timeout' })).toBe(1)
    expect(await value(m, 'gatehouse_rate_limited_total', { limit: 'streams' })).toBe(1)
    expect(await m.render()).toMatch(/gatehouse_time_to_first_token_seconds_count\{route="POST \/api\/chat",model="m:latest"\} 1/)
  })

  it('reads the audit log\'s sink errors, drops and queue depth at scrape time, as counters that never go back', async () => {
    let stats = { sinkErrors: 2, dropped: 0, queueDepth: 7 }
    const m = createMetrics({ defaultMetrics: false, auditStats: () => stats })
    expect(await m.render()).toMatch(/gatehouse_audit_sink_errors_total 2\n[\s\S]*gatehouse_audit_queue_depth 7/)
    stats = { sinkErrors: 5, dropped: 3, queueDepth: 0 }
    const text = await m.render()
    expect(text).toContain('gatehouse_audit_sink_errors_total 5')
    expect(text).toContain('gatehouse_audit_events_dropped_total 3')
    expect(text).toContain('gatehouse_audit_queue_depth 0')
  })

  it('each instance has its own registry; nothing lands in prom-client\'s global one', async () => {
    const a = createMetrics({ defaultMetrics: false })
    const b = createMetrics({ defaultMetrics: false })
    a.lockout()
    expect(await value(a, 'gatehouse_lockouts_total')).toBe(1)
    expect(await value(b, 'gatehouse_lockouts_total')).toBe(0)
    expect(globalRegistry.getSingleMetric('gatehouse_lockouts_total')).toBeUndefined()
  })

  it('only learnt model names become labels, bounded in number and character set; the rest are _other', async () => {
    const m = createMetrics({ defaultMetrics: false, maxModels: 3 })
    m.learnModel('evil"}\nfake_metric 1')
    for (let i = 0; i < 5; i++) m.learnModel(`model-${i}`)
    for (let i = 0; i < 50; i++) m.tokens(`model-${i}`, 1, 1)
    m.tokens('evil"}\nfake_metric 1', 1, 1)
    const text = await m.render()
    const models = new Set([...text.matchAll(/gatehouse_tokens_total\{model="([^"]*)"/g)].map((x) => x[1]))
    expect(models).toEqual(new Set(['model-0', 'model-1', 'model-2', '_other']))
    expect(text).not.toContain('fake_metric')
  })

  it('a model named in a request is learnt only when Ollama answered 2xx on an inference or read route', async () => {
    const m = createMetrics({ defaultMetrics: false })
    const request = (model: string, permission: string) => ({
      gh: { decision: 'allow', models: [model], route: { id: 'POST /api/x', permission }, identity: null, usage: { input: null, output: null }, masked: {} },
      method: 'POST', routeOptions: { url: '/api/x' }
    }) as never
    m.onResponse(request('junk:latest', 'inference'), { statusCode: 404, elapsedTime: 1 } as never)
    m.onResponse(request('pulled-junk:latest', 'models:manage'), { statusCode: 200, elapsedTime: 1 } as never)
    m.onResponse(request('real:latest', 'inference'), { statusCode: 200, elapsedTime: 1 } as never)
    m.observeTtft('POST /api/pull', 'pulled-junk:latest', 0.1) // a progress stream's first chunk proves nothing
    const labels = new Set([...(await m.render()).matchAll(/model="([^"]*)"/g)].map((x) => x[1]))
    expect(labels).toEqual(new Set(['_other', 'real:latest']))
  })

  it('foldModelLabels renames the labels a caller may not see to _other and sums the series that then coincide', () => {
    const text = [
      '# TYPE t counter',
      't{model="a:latest",direction="input"} 3',
      't{model="b:latest",direction="input"} 4',
      't{model="_other",direction="input"} 1',
      't{model="",direction="input"} 2',
      'h_bucket{route="r",model="b:latest",le="+Inf"} 5',
      'h_bucket{route="r",model="c:latest",le="+Inf"} 6',
      'plain 7'
    ].join('\n')
    expect(foldModelLabels(text, (m) => m === 'a:latest').split('\n')).toEqual([
      '# TYPE t counter',
      't{model="a:latest",direction="input"} 3',
      't{model="_other",direction="input"} 5',
      't{model="",direction="input"} 2',
      'h_bucket{route="r",model="_other",le="+Inf"} 11',
      'plain 7'
    ])
  })

  it('auth failures and lockouts follow the audit events that describe them; successes and other actions do not count', async () => {
    const m = createMetrics({ defaultMetrics: false })
    m.observeAudit({ action: 'login', outcome: 'failure', reason: 'bad_password' })
    m.observeAudit({ action: 'login', outcome: 'failure', reason: 'unknown_user' })
    m.observeAudit({ action: 'token-rejected', outcome: 'failure', reason: 'expired' })
    m.observeAudit({ action: 'totp-replay', outcome: 'failure' })
    m.observeAudit({ action: 'login', outcome: 'success' })
    m.observeAudit({ action: 'access-denied', outcome: 'failure', reason: 'GH_ERR_FORBIDDEN' })
    m.observeAudit({ action: 'account-locked', outcome: 'success' })
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'bad_password' })).toBe(1)
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'unknown_user' })).toBe(1)
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'expired' })).toBe(1)
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'totp-replay' })).toBe(1)
    expect(await value(m, 'gatehouse_auth_failures_total', { reason: 'GH_ERR_FORBIDDEN' })).toBeUndefined()
    expect(await value(m, 'gatehouse_lockouts_total')).toBe(1)
  })

  it('default process metrics are on unless turned off', async () => {
    expect(await createMetrics().render()).toContain('process_cpu_seconds_total')
    expect(await createMetrics({ defaultMetrics: false }).render()).not.toContain('process_cpu_seconds_total')
  })
})
