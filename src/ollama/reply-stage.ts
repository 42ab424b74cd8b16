// One step a streamed reply's bytes take on their way from Ollama to the client: the usage observer,
// the removal of a usage chunk Gatehouse asked for, the masker. Pure: bytes in, bytes out, no
// streams and no I/O. The proxy calls each stage once per upstream chunk and writes what comes out
// straight to the client's socket, so a chunk costs a few function calls rather than a Node stream
// per stage.

export const NO_BYTES: Buffer = Buffer.alloc(0)

export interface ReplyStage {
  /** the bytes to send for one upstream chunk (often the chunk itself; possibly none) */
  push: (chunk: Buffer) => Buffer
  /** what is left to send once upstream has ended */
  end: () => Buffer
  /**
   * true once the stage has refused the reply: the output of that last push (or end) closed the
   * stream with an error frame, and nothing may follow it
   */
  readonly closed: boolean
}

/**
 * Stages applied in order as one: each one's output is the next one's input. Ending the chain ends
 * each stage in turn, its last bytes passing the stages after it. When a stage closes the reply, what
 * it let out still passes the stages after it, which are then ended too; the stages before it are
 * not (what they still hold belongs to the part of the reply that was refused).
 */
export function chainStages (stages: readonly ReplyStage[]): ReplyStage {
  if (stages.length === 1) return stages[0] as ReplyStage
  let closed = false
  const pass = (chunk: Buffer, ending: boolean): Buffer => {
    let carry = chunk
    let finishing = ending
    for (const stage of stages) {
      if (carry.length > 0) carry = stage.push(carry)
      if (stage.closed) finishing = true
      else if (finishing) {
        const rest = stage.end()
        if (rest.length > 0) carry = carry.length === 0 ? rest : Buffer.concat([carry, rest])
      }
    }
    if (finishing) closed = true
    return carry
  }
  return {
    get closed () { return closed },
    push: (chunk) => closed ? NO_BYTES : pass(chunk, false),
    end: () => closed ? NO_BYTES : pass(NO_BYTES, true)
  }
}
