// `gatehouse compliance check --notify`: the report as a Slack-compatible webhook message (text plus
// blocks, one section per control with what failed or warns), and its delivery with a deadline.
// The webhook URL is a secret: no message, error or log line here contains it.
import type { CheckResult, ComplianceReport } from './compliance.js'

export interface WebhookMessage {
  text: string
  blocks: Array<{ type: 'section', text: { type: 'mrkdwn', text: string } }>
}

export type DeliveryResult = { ok: true, status: number } | { ok: false, error: string }

/** Slack refuses a section text longer than this, and more than 50 blocks. */
const SECTION_MAX = 3000
const BLOCKS_MAX = 50

const clip = (t: string, max = SECTION_MAX) => (t.length <= max ? t : t.slice(0, max - 1) + '…')
const section = (text: string): WebhookMessage['blocks'][number] => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text) } })

export function webhookMessage (r: ComplianceReport): WebhookMessage {
  const s = r.summary
  const text = `Gatehouse compliance ${r.compliant ? 'COMPLIANT' : 'NOT COMPLIANT'}: ${s.fail} fail, ${s.warn} warn, ${s.pass} pass ` +
    `(config sha256 ${r.configHash.slice(0, 12)}, ${r.generatedAt})`
  const findings = r.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'warn')
  const byControl = new Map<string, CheckResult[]>()
  for (const c of findings) byControl.set(c.control, [...(byControl.get(c.control) ?? []), c])
  const blocks = [section(`*${text}*`)]
  for (const [control, checks] of [...byControl.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    // failures first: they are what the message is for
    const lines = checks.sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'fail' ? -1 : 1))
      .map((c) => `• ${c.verdict.toUpperCase()} \`${c.id}\` ${c.title}: ${c.detail}`)
    blocks.push(section(`*${control}*\n${lines.join('\n')}`))
  }
  if (blocks.length > BLOCKS_MAX) {
    blocks.splice(BLOCKS_MAX - 1, blocks.length,
      section(`… ${blocks.length - BLOCKS_MAX + 1} more control(s): see \`gatehouse compliance check\``))
  }
  return { text, blocks }
}

/** True when `url` is an absolute http(s) URL (checked before anything is sent; the URL itself is never echoed). */
export function isWebhookUrl (url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch { return false }
}

/** POSTs the message; a 2xx is delivered, anything else (refused, timed out, redirected, non-2xx) is not. */
export async function deliverWebhook (url: string, message: WebhookMessage, timeoutMs: number): Promise<DeliveryResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs)
    })
    await res.body?.cancel().catch(() => {})
    return res.status >= 200 && res.status < 300 ? { ok: true, status: res.status } : { ok: false, error: `HTTP ${res.status}` }
  } catch (err) {
    const e = err as Error & { cause?: { code?: unknown } }
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { ok: false, error: `no answer within ${timeoutMs} ms` }
    // undici's message names only the failure; the cause's code (ECONNREFUSED, ENOTFOUND, …) says which
    return { ok: false, error: typeof e.cause?.code === 'string' ? e.cause.code : 'connection failed' }
  }
}
