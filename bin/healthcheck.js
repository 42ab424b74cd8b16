#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK, docker-compose.yml): GET /healthz on this
// container's own listener, exit 0 on 200 and 1 otherwise. The image has no curl. The probe goes to
// 127.0.0.1 inside the container and only asks "does the process serve", so the certificate is not
// verified (the equivalent of curl -k): it may be a real one for a public name, or a development one.
import { request as https } from 'node:https'
import { request as http } from 'node:http'

const url = new URL(process.env.GATEHOUSE_HEALTHCHECK_URL ?? 'https://127.0.0.1:8443/healthz')
const send = url.protocol === 'http:' ? http : https
const req = send(url, { method: 'GET', rejectUnauthorized: false, timeout: 4000 }, (res) => {
  res.resume()
  process.exitCode = res.statusCode === 200 ? 0 : 1
})
req.on('timeout', () => req.destroy(new Error('timed out')))
req.on('error', (err) => {
  process.stderr.write(`healthcheck: ${url.href}: ${err.message}\n`)
  process.exitCode = 1
})
req.end()
