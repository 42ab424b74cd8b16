// The metrics the alerts in deploy/monitoring/alerts.yaml rely on beyond the request counters:
// per-sink audit state, fail-closed refusals, and the server certificate's expiry.
import { describe, expect, it } from 'vitest'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createMetrics, type AuditSinkState } from '../../../src/ops/metrics.js'
import { newRequestContext } from '../../../src/pipeline/context.js'
import { certificateNotAfterSeconds } from '../../../src/tls/server-options.js'
import { testCerts } from '../../helpers/gateway.js'
import { readFileSync } from 'node:fs'
import forge from 'node-forge'

const line = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name))

describe('monitoring metrics', () => {
  it('gatehouse_audit_sink_up follows each sink\'s writable state at scrape time', async () => {
    const sinks: AuditSinkState[] = [{ type: 'file', writable: true }, { type: 'syslog', writable: true }]
    const m = createMetrics({ defaultMetrics: false, auditSinks: () => sinks })
    expect(line(await m.render(), 'gatehouse_audit_sink_up{')).toEqual([
      'gatehouse_audit_sink_up{index="0",type="file"} 1',
      'gatehouse_audit_sink_up{index="1",type="syslog"} 1'
    ])
    sinks[1] = { type: 'syslog', writable: false }
    expect(line(await m.render(), 'gatehouse_audit_sink_up{')).toContain('gatehouse_audit_sink_up{index="1",type="syslog"} 0')
  })

  it('counts a 503 from the fail-closed audit gate, and no other 503', async () => {
    const m = createMetrics({ defaultMetrics: false })
    const answer = (reason: string | null, status: number) => {
      const request = { gh: { ...newRequestContext('r', '127.0.0.1'), reason }, method: 'POST', routeOptions: { url: '/auth/login' } } as unknown as FastifyRequest
      m.onResponse(request, { statusCode: status, elapsedTime: 1 } as FastifyReply)
    }
    answer('audit-unavailable', 503)
    answer('audit-unavailable', 503)
    answer(null, 503)
    answer('permission:metrics:read', 403)
    expect(line(await m.render(), 'gatehouse_audit_fail_closed_refusals_total ')).toEqual(['gatehouse_audit_fail_closed_refusals_total 2'])
  })

  it('exposes the certificate expiry only when given one (TLS on)', async () => {
    const off = createMetrics({ defaultMetrics: false, tlsCertificateExpiry: null })
    expect(await off.render()).not.toContain('gatehouse_tls_certificate_expiry_timestamp_seconds')
    const pem = readFileSync(testCerts().cert)
    const notAfter = certificateNotAfterSeconds(pem)
    expect(notAfter).toBe(Math.floor(forge.pki.certificateFromPem(pem.toString()).validity.notAfter.getTime() / 1000))
    const on = createMetrics({ defaultMetrics: false, tlsCertificateExpiry: notAfter })
    expect(line(await on.render(), 'gatehouse_tls_certificate_expiry_timestamp_seconds ')).toEqual([`gatehouse_tls_certificate_expiry_timestamp_seconds ${notAfter}`])
  })
})

describe('tokens by role', () => {
  it('labels tokens with the caller\'s first role, read from the request', async () => {
    const m = createMetrics({ defaultMetrics: false })
    // only a model Ollama has shown it has becomes a label
    m.learnModel('llama3.2:latest')
    const gh = newRequestContext('r', '127.0.0.1')
    gh.decision = 'allow'
    gh.models = ['llama3.2:latest']
    gh.usage = { input: 7, output: 3 }
    gh.upstream = 'gpu-a'
    gh.identity = { credential: 'api_key', name: 'app', roles: ['user', 'monitor'], amr: [], credentialId: 'k', expiresAt: null }
    m.onResponse({ gh, method: 'POST', routeOptions: { url: '/api/chat' } } as unknown as FastifyRequest, { statusCode: 200, elapsedTime: 5 } as FastifyReply)
    m.tokens('llama3.2:latest', 1, null)
    const text = await m.render()
    expect(line(text, 'gatehouse_tokens_total{')).toEqual([
      'gatehouse_tokens_total{model="llama3.2:latest",role="user",upstream="gpu-a",direction="input"} 7',
      'gatehouse_tokens_total{model="llama3.2:latest",role="user",upstream="gpu-a",direction="output"} 3',
      'gatehouse_tokens_total{model="llama3.2:latest",role="",upstream="",direction="input"} 1'
    ])
  })
})
