// Waiting for something asynchronous without a fixed sleep: poll an assertion until it passes, and
// fail with its last error at the deadline. A fast machine passes at the first success; a slow one
// gets the whole deadline instead of a guessed pause.
import { setTimeout as delay } from 'node:timers/promises'

export interface EventuallyOptions {
  /** give up after this long (default 5000 ms) */
  timeoutMs?: number
  /** pause between attempts (default 10 ms) */
  intervalMs?: number
}

/**
 * Calls `check` until it returns without throwing (or its promise resolves), and returns its value.
 * At the deadline rethrows the last error, so the failure reads like the assertion itself.
 */
export async function eventually<T> (check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000
  const intervalMs = options.intervalMs ?? 10
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() >= deadline) {
        if (err instanceof Error) err.message = `${err.message} (still failing after ${timeoutMs} ms)`
        throw err
      }
    }
    await delay(intervalMs)
  }
}
