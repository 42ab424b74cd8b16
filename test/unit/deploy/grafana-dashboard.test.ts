// deploy/monitoring/grafana-dashboard.json is imported by hand into Grafana, so its shape is checked
// here: one data source variable used by every query, unique panel ids, panels inside the 24-column
// grid, and a panel for each area an operator asks about. That the metrics it names exist is
// checked against a live gateway in test/integration/monitoring-metric-names.test.ts.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/* eslint-disable @typescript-eslint/no-explicit-any */
const d = JSON.parse(readFileSync(join(import.meta.dirname, '../../../deploy/monitoring/grafana-dashboard.json'), 'utf8')) as any
const panels = (d.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])])
const queries = panels.filter((p) => p.type !== 'row')

describe('grafana-dashboard.json', () => {
  it('has a stable uid, a title and a Prometheus data source variable', () => {
    expect(d.uid).toBe('gatehouse-overview')
    expect(d.title).toBe('Gatehouse')
    expect(d.templating.list.find((v: any) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
  })

  it('every panel queries through the data source variable, with a non-empty expression and unique refIds', () => {
    expect(queries.length).toBeGreaterThanOrEqual(20)
    for (const p of queries) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' })
      expect(p.targets.length, p.title).toBeGreaterThan(0)
      for (const t of p.targets) expect(t.expr, p.title).toMatch(/\S/)
      const refs = p.targets.map((t: any) => t.refId)
      expect(new Set(refs).size, p.title).toBe(refs.length)
    }
  })

  it('panel ids are unique and every panel fits in the 24-column grid without overlapping another', () => {
    const ids = panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Set<string>()
    for (const p of panels) {
      const g = p.gridPos
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24)
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false)
          cells.add(cell)
        }
      }
    }
  })

  it('covers traffic, latency, TTFT, tokens by model and role, auth failures, lockouts, masking, upstream and audit', () => {
    const all = queries.flatMap((p) => p.targets.map((t: any) => t.expr as string)).join('\n')
    for (const needle of [
      'gatehouse_http_requests_total', 'gatehouse_http_request_duration_seconds_bucket', 'gatehouse_time_to_first_token_seconds_bucket',
      'sum by (model, direction) (rate(gatehouse_tokens_total', 'sum by (role, direction) (rate(gatehouse_tokens_total',
      'gatehouse_auth_failures_total', 'gatehouse_lockouts_total', 'gatehouse_masked_entities_total', 'gatehouse_upstream_errors_total',
      'gatehouse_audit_sink_up', 'gatehouse_audit_fail_closed_refusals_total', 'gatehouse_tls_certificate_expiry_timestamp_seconds'
    ]) expect(all, needle).toContain(needle)
  })
})
