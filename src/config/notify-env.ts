// The compliance webhook URL is a secret, so it never sits in the YAML: the configuration names the
// environment variable that holds it (compliance.notifyUrlEnv) and it is read here.
import type { GatehouseConfig } from './schema.js'

export function complianceWebhookFromEnv (
  config: Pick<GatehouseConfig, 'compliance'>, env: NodeJS.ProcessEnv = process.env
): string | null {
  const url = env[config.compliance.notifyUrlEnv]
  return url === undefined || url === '' ? null : url
}
