// `gatehouse audit verify FILE…`: exit 0 on an intact chain, 1 naming the first bad line and why.
import { errors } from '../errors.js'
import { readAuditVerifyKeys } from '../config/secrets.js'
import { verifyAuditFiles } from '../audit/index.js'
import type { CommandHandler } from './types.js'

export const auditCommands: Record<string, CommandHandler> = {
  'audit verify': async (config, args, io) => {
    const files = args.command.slice(2)
    if (files.length === 0) {
      throw new errors.USAGE('audit verify needs at least one FILE (oldest first, e.g. audit.log.2 audit.log.1 audit.log)')
    }
    const result = await verifyAuditFiles(files, readAuditVerifyKeys(config))
    if (args.json) io.out(JSON.stringify(result))
    else if (result.ok) {
      io.out(`intact: ${result.events} events, ${result.checkpoints} checkpoints, ${result.replicas.length} chain(s)`)
      for (const n of result.notes) io.out(`note: ${n}`)
    }
    if (!result.ok && result.firstBad) {
      io.err(`gatehouse: audit log NOT intact: ${result.firstBad.file}:${result.firstBad.line}: ${result.firstBad.reason}`)
    }
    return result.ok ? 0 : 1
  }
}
