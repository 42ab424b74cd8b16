// Shared set-up for the rbac tests: the default roles plus restricted `analyst` and `curator`.
import { DEFAULT_ROLES, type RoleConfig } from '../../../src/config/schema.js'
import { createPolicy } from '../../../src/rbac/policy.js'
import { PROXIED_ROUTES, type ProxiedRoute } from '../../../src/ollama/routes.js'

const ROLES: Record<string, RoleConfig> = {
  ...(DEFAULT_ROLES as Record<string, RoleConfig>),
  analyst: { permissions: ['inference', 'models:read'], models: ['llama3.2', 'qwen2.5:*'] },
  // a restricted model manager, so models:manage routes meet a forbidden model too
  curator: { permissions: ['models:read', 'models:manage'], models: ['llama3.2', 'qwen2.5:*'] }
}

export const policy = createPolicy(ROLES)

export function route (id: string): ProxiedRoute {
  const found = PROXIED_ROUTES.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no route ${id}`)
  return found
}

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))
export const raw = (text: string): Buffer => Buffer.from(text, 'utf8')
