// Redis-backed shared state for several replicas. Each operation is one Lua script (atomic on the
// server) that decides with the caller's `now`, like the other backends; Redis key expiry only
// garbage-collects, with a margin so clock skew between replicas cannot drop live entries.
import { Redis } from 'ioredis'
import { errors } from '../errors.js'
import type { StatePrimitives } from './types.js'

/** how long past its logical expiry a key may linger, to absorb clock skew between replicas */
const GC_MARGIN_MS = 60_000

const SCRIPTS = {
  // KEYS[1] hash {c, r}; ARGV now, windowMs, margin
  ghHit: `
    local now, win, gc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    local r = redis.call('HMGET', KEYS[1], 'c', 'r')
    local c, reset = tonumber(r[1]), tonumber(r[2])
    if (not reset) or reset <= now then
      c, reset = 1, now + win
      redis.call('HSET', KEYS[1], 'c', 1, 'r', string.format('%d', reset))
    else
      c = redis.call('HINCRBY', KEYS[1], 'c', 1)
    end
    redis.call('PEXPIRE', KEYS[1], math.max(reset - now, 0) + gc)
    return {c, string.format('%d', reset)}`,
  // KEYS[1] zset holder -> expiresAt; ARGV now, limit, expiresAt, holder, margin
  ghAcquire: `
    local now, limit, exp, gc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
    redis.call('ZADD', KEYS[1], exp, ARGV[4])
    local ttl = math.max(exp - now, 0) + gc
    if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
    return 1`,
  // KEYS[1] zset; ARGV holder, expiresAt, now, margin
  ghRenew: `
    local cur = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
    if (not cur) or cur <= tonumber(ARGV[3]) then return 0 end
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
    local ttl = math.max(tonumber(ARGV[2]) - tonumber(ARGV[3]), 0) + tonumber(ARGV[4])
    if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
    return 1`,
  // KEYS[1] hash {t, e}; ARGV now, amount, expiresAt, margin
  ghAdd: `
    local now, amount, exp, gc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
    local r = redis.call('HMGET', KEYS[1], 't', 'e')
    local t, e = tonumber(r[1]), tonumber(r[2])
    if (not e) or e <= now then
      t, e = amount, exp
    else
      t, e = t + amount, math.max(e, exp)
    end
    redis.call('HSET', KEYS[1], 't', string.format('%d', t), 'e', string.format('%d', e))
    redis.call('PEXPIRE', KEYS[1], math.max(e - now, 0) + gc)
    return string.format('%d', t)`,
  // KEYS[1] string until; ARGV until, now, margin
  ghRevoke: `
    local untilMs, now, gc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    local cur = tonumber(redis.call('GET', KEYS[1]))
    if (not cur) or cur < untilMs then
      redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(untilMs - now, 0) + gc)
    end
    return 1`
} as const

type ScriptName = keyof typeof SCRIPTS
type Scripted = Record<ScriptName, (key: string, ...args: Array<string | number>) => Promise<unknown>>

/** A client with the scripts defined; fail fast rather than queue for minutes when Redis is down. */
export function createRedisClient (url: string): Redis {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, connectTimeout: 5000, commandTimeout: 5000 })
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  // a lost connection surfaces on the commands (as 503s); the client reconnects by itself
  redis.on('error', () => {})
  return redis
}

/** Every primitive, with a Redis failure (down, restarting, timed out) raised as the 503 the pipeline answers with. */
function failClosed (ops: StatePrimitives): StatePrimitives {
  const refuse = (): never => { throw new errors.SHARED_STATE_UNAVAILABLE() }
  return {
    hit: async (...a) => await ops.hit(...a).catch(refuse),
    acquire: async (...a) => await ops.acquire(...a).catch(refuse),
    add: async (...a) => await ops.add(...a).catch(refuse),
    renew: async (...a) => await ops.renew(...a).catch(refuse),
    release: async (...a) => { await ops.release(...a).catch(refuse) },
    revoke: async (...a) => { await ops.revoke(...a).catch(refuse) },
    isRevoked: async (...a) => await ops.isRevoked(...a).catch(refuse),
    sweep: async (...a) => { await ops.sweep(...a).catch(refuse) }
  }
}

export function createRedisOps (redis: Redis): StatePrimitives {
  const run = redis as unknown as Scripted
  const m = GC_MARGIN_MS
  return failClosed({
    hit: async (key, windowMs, now) => {
      const [count, resetAt] = await run.ghHit(key, now, windowMs, m) as [number, string]
      return { count: Number(count), resetAt: Number(resetAt) }
    },
    acquire: async (key, holder, limit, expiresAt, now) => Number(await run.ghAcquire(key, now, limit, expiresAt, holder, m)) === 1,
    add: async (key, amount, expiresAt, now) => Number(await run.ghAdd(key, now, amount, expiresAt, m)),
    renew: async (key, holder, expiresAt, now) => Number(await run.ghRenew(key, holder, expiresAt, now, m)) === 1,
    release: async (key, holder) => { await redis.zrem(key, holder) },
    revoke: async (id, untilMs, now) => { await run.ghRevoke(id, untilMs, now, m) },
    isRevoked: async (id, now) => Number(await redis.get(id) ?? 0) > now,
    // Redis expires keys itself
    sweep: async () => {}
  })
}
