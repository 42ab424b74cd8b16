// A parsed audit line as tests read it: the ECS fields they assert on, loosely typed.
export interface AuditLine {
  '@timestamp': string
  event: { action: string, outcome: string, category: string[], type: string[], reason?: string }
  user?: { name?: string, target?: { name?: string } }
  source?: { ip: string }
  url?: { path: string }
  http?: { request: { id?: string, method?: string }, response?: { status_code: number } }
  gen_ai?: { request: { model: string | null }, usage: { input_tokens: number | null, output_tokens: number | null } }
  gatehouse: {
    decision?: string, reason?: string, credential?: string, masked?: Record<string, number>, repeat_count?: number
    chain: { seq: number, prev: string, hash: string }
  }
}
