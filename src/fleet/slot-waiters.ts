// Requests waiting for a free slot when every host that has their model is at maxConcurrent.
// When a request on a host ends, the oldest waiter that host can serve is woken and selects again;
// a waiter whose time runs out (or whose client hangs up) leaves the queue and is refused.

interface Waiter {
  accepts: (hostName: string) => boolean
  resolve: (woken: boolean) => void
}

export interface SlotWaiters {
  /**
   * Waits until a host this request could use frees a slot (true), or until `timeoutMs` passes or
   * `signal` aborts (false).
   */
  wait: (accepts: (hostName: string) => boolean, timeoutMs: number, signal?: AbortSignal) => Promise<boolean>
  /** A request on `hostName` ended: wake the oldest waiter that host can serve. */
  slotFreed: (hostName: string) => void
  readonly size: number
}

export function createSlotWaiters (): SlotWaiters {
  const queue: Waiter[] = []
  const leave = (w: Waiter): void => {
    const i = queue.indexOf(w)
    if (i >= 0) queue.splice(i, 1)
  }
  return {
    wait (accepts, timeoutMs, signal) {
      if (timeoutMs <= 0 || signal?.aborted === true) return Promise.resolve(false)
      return new Promise<boolean>((resolve) => {
        const done = (woken: boolean): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          leave(waiter)
          resolve(woken)
        }
        const waiter: Waiter = { accepts, resolve: done }
        const onAbort = (): void => done(false)
        const timer = setTimeout(() => done(false), timeoutMs)
        signal?.addEventListener('abort', onAbort, { once: true })
        queue.push(waiter)
      })
    },
    slotFreed (hostName) {
      const w = queue.find((x) => x.accepts(hostName))
      if (w !== undefined) w.resolve(true)
    },
    get size () { return queue.length }
  }
}
