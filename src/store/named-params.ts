// Rewrites `:name` placeholders into PostgreSQL's `$1…$n`, so both backends share one SQL text.

export interface BoundQuery { text: string, values: unknown[] }

const PARAM = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g

export function bindNamed (sql: string, params: Record<string, unknown> = {}): BoundQuery {
  const order: string[] = []
  const text = sql.replace(PARAM, (_m, name: string) => {
    if (!(name in params)) throw new Error(`missing SQL parameter :${name}`)
    let i = order.indexOf(name)
    if (i === -1) i = order.push(name) - 1
    return `$${i + 1}`
  })
  return { text, values: order.map((n) => params[n]) }
}
