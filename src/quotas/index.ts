// Token quotas and usage accounting: the pipeline's quota stage, the meter that counts each ended
// request, the buffered usage writer, the retention sweep and the rules.
export { createQuotaGuard, type QuotaGuardDeps } from './guard.js'
export { createUsageMeter } from './meter.js'
export { createUsageWriter, type UsageWriter } from './writer.js'
export { createUsageRetention, type UsageRetention } from './retention.js'
export * from './rules.js'
export {
  DEFAULT_SINCE, USAGE_BY, isUsageBy, parseSince, quotaStatus, usageCsv, usageReport, type QuotaStatus, type UsageReport
} from './report.js'
