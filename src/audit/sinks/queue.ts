// Finding an event in a sink's queue of lines waiting to go out.

/**
 * Where the event `seq` sits in `queue`, or -1. Queues hold consecutive seqs (every event is written
 * to every sink, and lines leave from the front), so this is an offset from the first; should that
 * ever not hold, the queue is searched.
 */
export function queuedAt<T> (queue: readonly T[], seq: number, seqOf: (item: T) => number): number {
  const first = queue[0]
  if (first === undefined) return -1
  const k = seq - seqOf(first)
  if (k >= 0 && k < queue.length && seqOf(queue[k] as T) === seq) return k
  return queue.findIndex((item) => seqOf(item) === seq)
}
