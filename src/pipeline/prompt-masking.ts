// masking.direction "both": prompts are masked before Ollama sees them. The masker reads keys the
// way Ollama does (Go: case-insensitive, last duplicate wins), so "PROMPT" or a `ſystem` key is
// masked too; the body forwarded is re-serialized from the masked copy.
import type { FastifyRequest } from 'fastify'
import type { MaskingEngine } from '../masking/index.js'
import type { SeesRawOutput } from '../rbac/raw-output.js'

export function createPromptMaskingGuard (masking: MaskingEngine, seesRawOutput: SeesRawOutput) {
  return async function maskPrompt (request: FastifyRequest): Promise<void> {
    const ctx = request.gh
    if (ctx.route?.body !== 'json' || ctx.forwardBody === null || seesRawOutput(ctx.identity?.roles ?? [])) return
    const parsed = JSON.parse(ctx.forwardBody.toString('utf8')) as Record<string, unknown>
    ctx.forwardBody = Buffer.from(JSON.stringify(masking.maskRequest(ctx.route.reply, parsed, ctx.masked)))
  }
}
