// masking.direction "both": prompts are masked before Ollama sees them. The masker reads keys the
// way Ollama does (Go: case-insensitive), so "PROMPT" or a `ſystem` key is masked too; it rewrites
// the checked body's prompt members in place and keeps every other byte.
import type { FastifyRequest } from 'fastify'
import type { MaskingEngine } from '../masking/index.js'
import type { SeesRawOutput } from '../rbac/raw-output.js'

export function createPromptMaskingGuard (masking: MaskingEngine, seesRawOutput: SeesRawOutput) {
  return async function maskPrompt (request: FastifyRequest): Promise<void> {
    const ctx = request.gh
    if (ctx.route?.body !== 'json' || ctx.forwardBody === null || seesRawOutput(ctx.identity?.roles ?? [])) return
    ctx.forwardBody = masking.maskRequest(ctx.route.reply, ctx.forwardBody, ctx.masked)
  }
}
